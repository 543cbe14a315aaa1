// `--shard i/N`: the i-th of N contiguous ranges of a source's records (by index in key order), so N machines
// or processes can extract one large set and `kdnet extract merge` joins their outputs. Indices start at 0, as
// Kubernetes' JOB_COMPLETION_INDEX and Slurm's `--array=0-(N-1)` do.
import { KdnetError } from '../errors.js';

export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 0, count: 1 };

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new KdnetError(`--shard '${text}': expected i/N, e.g. 0/4 for the first of 4 shards`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  checkShard(shard);
  return shard;
}

export function checkShard(s: Shard): void {
  if (!Number.isInteger(s.count) || s.count < 1) throw new KdnetError(`--shard ${s.index}/${s.count}: the number of shards must be at least 1`);
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) {
    throw new KdnetError(`--shard ${s.index}/${s.count}: shard indices run from 0 to ${s.count - 1} (0/${s.count} is the first, ${s.count - 1}/${s.count} the last)`);
  }
}

export function shardText(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** Records [start, end) of shard `s` of `total`: sizes differ by at most one, earlier shards are never larger. */
export function shardRange(s: Shard, total: number): { start: number; end: number } {
  return { start: Math.floor((s.index * total) / s.count), end: Math.floor(((s.index + 1) * total) / s.count) };
}
