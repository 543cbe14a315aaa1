// Flag handling several commands share.
import type { Command } from 'commander';
import { KdnetError } from '../errors.js';
import { TFJS_MAX_TENSOR_ELEMENTS } from '../net/size-limits.js';
import { requestThreads } from '../backend/native/kernel-set.js';

// Caffe's tools take gflags-style flags (`-solver x`, `-weights=a`); kdnet's own are `--solver x`.
// Both are accepted: a single-dash flag of two or more letters becomes its double-dash twin.
export function normalizeCaffeFlags(argv: string[]): string[] {
  return argv.map((a) => (/^-[A-Za-z_][A-Za-z0-9_]+(=.*)?$/.test(a) ? '-' + a : a));
}

/** `--input-shape BLOB=D1,D2,...` values (check, time, test) as shapes by blob name. */
export function parseInputShapes(specs: string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=(\d+(?:,\d+)*)$/.exec(spec);
    if (!m) throw new KdnetError(`--input-shape expects BLOB=D1,D2,..., got '${spec}'`);
    out[m[1]!] = m[2]!.split(',').map(Number);
  }
  return out;
}

/** The run-time size limit flags of the commands that build a net (see src/net/size-limits.ts). */
export function withSizeLimitOptions(cmd: Command): Command {
  return cmd
    .option('--max-blob-elements <n>', `most elements one blob or parameter may hold (default ${TFJS_MAX_TENSOR_ELEMENTS}; env KDNET_MAX_BLOB_ELEMENTS)`)
    .option('--memory-limit <size>', "bytes the net's blobs and parameters may take, e.g. 8G (default: half the machine's memory, at most 4G on wasm; env KDNET_MEMORY_LIMIT)");
}

/** A flag that takes a whole number ≥ 0 (`--iterations 100`); one error naming the flag otherwise. */
export function wholeNumberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new KdnetError(`--${flag} must be a whole number ≥ 0, got '${value}'`);
  return Number(value);
}

/**
 * A file given either as the command's argument or by a flag (`kdnet train S`, `kdnet train --solver S`,
 * Caffe's `-solver S`); both is fine when they agree.
 */
export function fileArgumentOrFlag(flag: string, positional: string | undefined, flagged: string | undefined, usage: string): string {
  if (positional !== undefined && flagged !== undefined && positional !== flagged) {
    throw new KdnetError(`two ${flag} files given: '${positional}' and --${flag} '${flagged}'; give one (${usage})`);
  }
  const file = positional ?? flagged;
  if (file === undefined) throw new KdnetError(`no ${flag} file given (${usage})`);
  return file;
}

export const THREADS_HELP = 'threads of the native kernels (oneDNN/OpenBLAS), or of XNNPACK on pure wasm; default OMP_NUM_THREADS, else OPENBLAS_NUM_THREADS, else one per core';

/** `--threads N` (N ≥ 1) for the native kernels; call before initBackend. */
export function applyThreadsFlag(value: string | undefined): void {
  if (value === undefined) return;
  const n = wholeNumberFlag('threads', value)!;
  if (n < 1) throw new KdnetError(`--threads must be at least 1, got '${value}'`);
  requestThreads(n);
}
