// What an extracted soft-target set says about itself, so shards can be joined and checked without the
// source: which shard of how many, which records of the source (by index in key order), the vector length,
// what the values are and where they came from. Databases keep it as kdnet-extract.json inside the database
// folder (neither LMDB nor LevelDB looks at other files there, and a Data layer never sees it); HDF5 files
// keep it as the root attribute `kdnet_extract`.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import type { Shard } from './shard.js';

export const META_FILE = 'kdnet-extract.json';
export const META_ATTRIBUTE = 'kdnet_extract';

export type TargetKind = { kind: 'softmax'; temperature: number } | { kind: 'logits' };

export interface ExtractMeta {
  kdnet_extract: 1;
  shard: Shard;
  /** Records [start, end) of `total` in the source's key order. */
  records: { start: number; end: number; total: number };
  /** Values per record; null for an empty shard (no teacher ran). */
  dim: number | null;
  values: TargetKind;
  blob: string;
  /** One per teacher; an ensemble averages their logits. */
  teachers: Array<{ model: string; weights: string[] }>;
  source: string;
  /** For a merged set: the shards it was joined from, in order. */
  merged_from?: string[];
}

export function targetKindText(k: TargetKind): string {
  return k.kind === 'logits' ? 'logits' : `softmax(z/T) at T = ${k.temperature}`;
}

export function metaToJson(meta: ExtractMeta): string {
  return JSON.stringify(meta, null, 2) + '\n';
}

/** Parses and checks the metadata text of `where`. */
export function metaFromJson(text: string, where: string): ExtractMeta {
  let m: Partial<ExtractMeta>;
  try {
    m = JSON.parse(text) as Partial<ExtractMeta>;
  } catch (e) {
    throw new KdnetError(`${where}: unreadable kdnet extract metadata (${(e as Error).message})`);
  }
  const ok =
    m.kdnet_extract === 1 &&
    Number.isInteger(m.shard?.index) &&
    Number.isInteger(m.shard?.count) &&
    Number.isInteger(m.records?.start) &&
    Number.isInteger(m.records?.end) &&
    Number.isInteger(m.records?.total) &&
    (m.dim === null || Number.isInteger(m.dim)) &&
    (m.values?.kind === 'logits' || m.values?.kind === 'softmax');
  if (!ok) throw new KdnetError(`${where}: the kdnet extract metadata is incomplete or from another version`);
  return m as ExtractMeta;
}

/** The metadata inside a database folder, or undefined when there is none (not written by kdnet extract). */
export function readDbMeta(dbPath: string): ExtractMeta | undefined {
  const file = path.join(dbPath, META_FILE);
  if (!fs.existsSync(file)) return undefined;
  return metaFromJson(fs.readFileSync(file, 'utf8'), file);
}
