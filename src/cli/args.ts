// Caffe's tools take gflags-style flags (`-solver x`, `-weights=a`); kdnet's own are `--solver x`.
// Both are accepted: a single-dash flag of two or more letters becomes its double-dash twin.
import { KdnetError } from '../errors.js';

export function normalizeCaffeFlags(argv: string[]): string[] {
  return argv.map((a) => (/^-[A-Za-z_][A-Za-z0-9_]+(=.*)?$/.test(a) ? '-' + a : a));
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
