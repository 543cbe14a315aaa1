// `kdnet extract merge`: joins the outputs of `kdnet extract --shard i/N` into one set, exactly what a single
// run would have written. Each shard's metadata says which shard it is and which records of the source it
// covers, so a missing or duplicated shard is found without the source; with the source database at hand
// every key is also checked against it, in order.
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { openDbReader, type DbRecord } from '../data/db/index.js';
import type { Progress } from '../data/tools/write-records.js';
import { shardText, WHOLE } from './shard.js';
import { META_FILE, type ExtractMeta } from './metadata.js';
import { openTargets, targetsMeta } from './target-reader.js';
import { checkTargetPath, createTargetWriter, targetFormatFor, type TargetFormat, type TargetWriter } from './target-writer.js';

export interface MergeOptions {
  /** The shards' outputs, in any order. */
  inputs: string[];
  out: string;
  /** Default: HDF5 for a .h5/.hdf5 name, else LMDB. */
  format?: TargetFormat;
  /** The source database (LMDB/LevelDB): the merged keys must be exactly its keys, in its order. */
  source?: string;
  force?: boolean;
  signal?: AbortSignal;
  progress?: Progress;
}

interface Part {
  path: string;
  meta: ExtractMeta;
}

/** The shards ordered by index, after checking they are one complete, consistent set. */
async function checkedParts(inputs: string[]): Promise<Part[]> {
  if (!inputs.length) throw new KdnetError('nothing to merge: name the shards\' outputs');
  const parts: Part[] = [];
  for (const p of inputs) {
    const meta = await targetsMeta(p);
    if (!meta) throw new KdnetError(`${p}: no kdnet extract metadata (${META_FILE} or the kdnet_extract attribute): merge joins outputs of kdnet extract`);
    parts.push({ path: p, meta });
  }
  const first = parts[0]!;
  const same = (a: ExtractMeta, b: ExtractMeta) =>
    a.shard.count === b.shard.count && a.records.total === b.records.total && a.blob === b.blob && JSON.stringify(a.values) === JSON.stringify(b.values);
  for (const p of parts.slice(1)) {
    if (!same(p.meta, first.meta)) {
      const text = (m: ExtractMeta) => `shard ${shardText(m.shard)} of ${m.records.total} records, blob '${m.blob}', ${JSON.stringify(m.values)}`;
      throw new KdnetError(`${p.path} is ${text(p.meta)} but ${first.path} is ${text(first.meta)}: not shards of one extraction`);
    }
    if (p.meta.source !== first.meta.source || JSON.stringify(p.meta.teachers) !== JSON.stringify(first.meta.teachers)) {
      log.warn(`${p.path} names another source or teacher files than ${first.path} (${p.meta.source} vs ${first.meta.source}): fine if only the paths differ between machines`);
    }
  }
  const byIndex = new Map<number, Part>();
  for (const p of parts) {
    const twin = byIndex.get(p.meta.shard.index);
    if (twin) throw new KdnetError(`shard ${shardText(p.meta.shard)} is given twice: ${twin.path} and ${p.path}`);
    byIndex.set(p.meta.shard.index, p);
  }
  const count = first.meta.shard.count;
  const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new KdnetError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} of ${count} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${parts.map((p) => `${shardText(p.meta.shard)} ${p.path}`).join(', ')})`,
    );
  }
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!);
  let next = 0;
  for (const p of ordered) {
    if (p.meta.records.start !== next) throw new KdnetError(`${p.path} covers records [${p.meta.records.start}, ${p.meta.records.end}) but the shards before it end at ${next}`);
    next = p.meta.records.end;
  }
  if (next !== first.meta.records.total) throw new KdnetError(`the shards cover records [0, ${next}) of ${first.meta.records.total}`);
  const dims = new Set(ordered.map((p) => p.meta.dim).filter((d) => d !== null));
  if (dims.size > 1) throw new KdnetError(`the shards hold vectors of different lengths (${[...dims].join(', ')})`);
  return ordered;
}

export async function mergeShards(o: MergeOptions): Promise<{ out: string; format: TargetFormat; meta: ExtractMeta }> {
  const format = o.format ?? targetFormatFor(o.out);
  checkTargetPath(o.out, o.force === true);
  const parts = await checkedParts(o.inputs);
  const total = parts[0]!.meta.records.total;
  const source = o.source ? await openDbReader(o.source) : undefined;
  let writer: TargetWriter | undefined;
  try {
    if (source) {
      const n = await source.count();
      if (n !== total) throw new KdnetError(`${o.source} holds ${n} records but the shards were cut from a source of ${total}`);
    }
    const sourceKeys: AsyncIterator<DbRecord> | undefined = source?.records()[Symbol.asyncIterator]();
    writer = await createTargetWriter(o.out, format, o.force === true);
    let previous: { key: Buffer; path: string } | undefined;
    let done = 0;
    for (const part of parts) {
      const reader = await openTargets(part.path);
      let n = 0;
      try {
        for await (const r of reader.records()) {
          const key = r.key.toString('latin1');
          if (previous && Buffer.compare(previous.key, r.key) >= 0) {
            throw new KdnetError(`${part.path}: key '${key}' does not come after '${previous.key.toString('latin1')}' of ${previous.path}: the shards overlap or are out of order`);
          }
          if (sourceKeys) {
            const s = await sourceKeys.next();
            if (s.done || !s.value.key.equals(r.key)) {
              throw new KdnetError(`${part.path}: key '${key}' where ${o.source} has ${s.done ? 'no more records' : `'${s.value.key.toString('latin1')}'`}`);
            }
          }
          await writer.put(r.key, r.label, r.values);
          previous = { key: r.key, path: part.path };
          n++;
          o.progress?.(++done, total);
          if (done % 1024 === 0) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (o.signal?.aborted) throw new KdnetError(`interrupted: nothing was written to ${o.out}`);
          }
        }
      } finally {
        await reader.close();
      }
      const expected = part.meta.records.end - part.meta.records.start;
      if (n !== expected) throw new KdnetError(`${part.path} holds ${n} records but shard ${shardText(part.meta.shard)} covers ${expected} (records [${part.meta.records.start}, ${part.meta.records.end}))`);
    }
    const dim = parts.map((p) => p.meta.dim).find((d) => d !== null) ?? null;
    const meta: ExtractMeta = { ...parts[0]!.meta, shard: WHOLE, records: { start: 0, end: total, total }, dim, merged_from: parts.map((p) => p.path) };
    await writer.finish(meta);
    log.info(`Merged ${parts.length} shard${parts.length > 1 ? 's' : ''}: ${total} records of ${dim ?? 0} values into ${o.out}`);
    return { out: o.out, format, meta };
  } catch (e) {
    await writer?.abort();
    throw e;
  } finally {
    await source?.close();
  }
}
