// What `kdnet check FILE` runs, minus commander: checkFile, the report table and the unknown-types error. Tests
// that feed it thousands of broken files use this, and sort any exception that is not a KdnetError by the
// module it came from.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFile, checkError } from '../../src/net/check.js';
import { formatCheckReport } from '../../src/cli/check.js';
import { initBackend } from '../../src/backend/select.js';
import { KdnetError } from '../../src/errors.js';

let backendReady: Promise<unknown> | undefined;

/** The backend `kdnet check` uses (shape inference only). */
export function checkBackend(): Promise<unknown> {
  return (backendReady ??= initBackend('cpu', true));
}

/** Throws what `kdnet check` would report: a KdnetError for a user mistake, anything else is a bug. */
export function checkLikeCli(file: string): void {
  const report = checkFile(file, {});
  formatCheckReport(report);
  if (report.kind === 'NetParameter') {
    const err = checkError(report);
    if (err) throw err;
  }
}

/** A scratch folder in memory where there is one (thousands of small writes on a busy disk are slow). */
export function scratchDir(prefix: string): string {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return fs.mkdtempSync(path.join(base, prefix));
}

/** `src/…` module of the innermost kdnet frame of an error's stack, e.g. `net/shapes`. */
export function originOf(e: unknown): string {
  const m = /src\/([\w/.-]+?)\.[jt]s:\d+/.exec((e as Error)?.stack ?? '');
  return m?.[1] ?? 'unknown';
}

/** Modules of the text front end and the CLI, which must never throw anything but KdnetError. */
export function isFrontEnd(origin: string): boolean {
  return /^(prototxt|proto|cli)\//.test(origin) || origin === 'errors';
}

/** One line naming an internal error: its class, message and origin. */
export function describeInternal(e: unknown): string {
  const err = e as Error;
  return `${err?.name ?? typeof e}: ${String(err?.message ?? e).split('\n')[0]!.slice(0, 160)} (in src/${originOf(e)})`;
}

/** Every problem of a KdnetError says where: a file position, or at least the layer or field path. */
export function unplaced(e: KdnetError): string[] {
  return [e, ...e.others]
    .filter((p) => !(p.where.position && p.where.position.line >= 1 && p.where.position.column >= 1) && !p.where.layer && !p.where.path)
    .map((p) => p.message);
}
