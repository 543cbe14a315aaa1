// Where snapshots go, settled before iteration 0. The prefix follows Caffe master's
// UpgradeSnapshotPrefixProperty (unset: the solver file's path without extension; an existing folder: that
// folder plus the solver file's stem). Caffe then probes the prefix with a temporary file before building
// any net (CheckSnapshotWritePermissions); kdnet does the same, creating a missing folder first, so that a
// read-only folder or a path under a regular file fails at start naming the snapshot_prefix line instead of
// at the first snapshot hours later.
import fs from 'node:fs';
import path from 'node:path';
import { has, type Message } from '../proto/schema.js';
import { positionOf } from '../prototxt/side-tables.js';
import { KdnetError, type ErrorWhere } from '../errors.js';
import { describeFsError, removeStaleTemporaries, temporarySibling } from '../util/atomic-write.js';
import { log } from '../log.js';

export interface SnapshotPrefix {
  prefix: string;
  /** Where an error about it points: the snapshot_prefix field, or the solver when the prefix was derived. */
  where: ErrorWhere;
}

/** The prefix snapshots are written under, as Caffe master derives it; `solverFile` is the file it came from. */
export function resolveSnapshotPrefix(param: Message, solverFile?: string): SnapshotPrefix {
  const given = has(param, 'snapshot_prefix') ? String(param.snapshot_prefix) : undefined;
  const where: ErrorWhere = { path: 'snapshot_prefix', position: positionOf(param, 'snapshot_prefix') };
  if (solverFile === undefined) return { prefix: given ?? 'snapshot', where };
  const stem = path.basename(solverFile, path.extname(solverFile));
  if (given === undefined) {
    const prefix = path.join(path.dirname(solverFile), stem);
    log.info(`snapshot_prefix was not specified and is set to ${prefix}`);
    return { prefix, where };
  }
  if (isFolder(given)) {
    const prefix = path.join(given, stem);
    log.info(`snapshot_prefix was a directory and is replaced to ${prefix}`);
    return { prefix, where };
  }
  return { prefix: given, where };
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The folder a prefix writes into ("runs/lenet" for "runs/lenet/lenet", "runs" for "runs/"). */
export function snapshotFolder(prefix: string): string {
  return path.dirname(`${prefix}_iter_0`);
}

/** Creates the prefix's folder if missing; one error naming the prefix otherwise. */
export function ensureSnapshotFolder(p: SnapshotPrefix): string {
  const dir = snapshotFolder(p.prefix);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw folderError(p, dir, e, 'cannot create the snapshot folder');
  }
  return dir;
}

/**
 * Before iteration 0: the folder exists (created if missing) and takes a file (a probe is created and
 * removed), and temporary files that killed runs left for this prefix are removed.
 */
export function prepareSnapshotFolder(p: SnapshotPrefix): void {
  const dir = ensureSnapshotFolder(p);
  const base = path.basename(`${p.prefix}_iter_0`).replace(/_iter_0$/, '');
  const ours = new RegExp(`^${escapeRegExp(base)}_iter_\\d+\\.[A-Za-z0-9.]+$`);
  for (const stale of removeStaleTemporaries(dir, (target) => ours.test(target))) {
    log.info(`Removed ${stale}, a temporary file an interrupted snapshot left behind`);
  }
  const probe = temporarySibling(`${p.prefix}_iter_0.probe`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe);
  } catch (e) {
    fs.rmSync(probe, { force: true });
    throw folderError(p, dir, e, 'cannot write snapshots to');
  }
}

function folderError(p: SnapshotPrefix, dir: string, e: unknown, what: string): unknown {
  const cause = describeFsError(e);
  if (cause === undefined) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const blocker = code === 'ENOTDIR' || code === 'EEXIST' ? regularFileOnPath(dir) : undefined;
  const detail = blocker ? `${blocker} is a regular file, not a folder` : cause;
  return new KdnetError(`${what} ${dir} (snapshot prefix '${p.prefix}'): ${detail}`, p.where);
}

/** The first component of `dir` that exists and is not a folder. */
function regularFileOnPath(dir: string): string | undefined {
  const chain: string[] = [];
  for (let cur = dir; !chain.includes(cur); cur = path.dirname(cur)) chain.unshift(cur);
  for (const c of chain) {
    let st: fs.Stats;
    try {
      st = fs.statSync(c);
    } catch {
      return undefined;
    }
    if (!st.isDirectory()) return c;
  }
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
