// Shards and kdnet extract merge: N shards joined are byte for byte one whole run; a missing, duplicated or
// foreign shard is one clear error; --source checks every key against the source.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { hdf5Ready } from '../../src/data/hdf5-file.js';
import { openDbReader } from '../../src/data/db/index.js';
import { extractSoftTargets, type ExtractOptions } from '../../src/distill/extract.js';
import { mergeShards } from '../../src/distill/merge.js';
import { openTargets } from '../../src/distill/target-reader.js';
import { parseShard, shardRange } from '../../src/distill/shard.js';
import { readDbMeta } from '../../src/distill/metadata.js';
import { setLogSink } from '../../src/log.js';
import { tempDir, writeDatums } from '../support/data.js';
import { RECORDS, teacherText, writeSource, writeTeacherWeights } from '../support/teacher.js';

const dir = tempDir('kdnet-merge-');
const source = path.join(dir, 'src_lmdb');
const teacher = path.join(dir, 'teacher.prototxt');
const weights = path.join(dir, 'w.caffemodel');
const base = (): Omit<ExtractOptions, 'out'> => ({ teachers: [{ model: teacher, weights: [weights] }], blob: 'fc', temperature: 2 });

/** Keys and raw stored values of a database. */
async function rawRecords(db: string): Promise<Array<[string, string]>> {
  const r = await openDbReader(db);
  const out: Array<[string, string]> = [];
  for await (const { key, value } of r.records()) out.push([key.toString(), value.toString('hex')]);
  await r.close();
  return out;
}

async function shards(count: number, prefix: string, formats: Array<'lmdb' | 'leveldb' | 'hdf5'> = []): Promise<string[]> {
  const outs: string[] = [];
  for (let i = 0; i < count; i++) {
    const format = formats[i] ?? 'lmdb';
    const out = path.join(dir, `${prefix}_${i}_of_${count}${format === 'hdf5' ? '.h5' : ''}`);
    await extractSoftTargets({ ...base(), out, format, shard: { index: i, count } });
    outs.push(out);
  }
  return outs;
}

let whole: Array<[string, string]> = [];

beforeAll(async () => {
  await initBackend('cpu', true);
  await hdf5Ready();
  setLogSink(() => {});
  await writeSource(source, 'lmdb');
  fs.writeFileSync(teacher, teacherText(source, 'LMDB'));
  writeTeacherWeights(weights, 5);
  await extractSoftTargets({ ...base(), out: path.join(dir, 'whole_lmdb') });
  whole = await rawRecords(path.join(dir, 'whole_lmdb'));
});

describe('shards', () => {
  it('cut contiguous ranges by record index; i/N is checked', () => {
    expect([0, 1, 2].map((index) => shardRange({ index, count: 3 }, 10))).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 10 }]);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('3/3')).toThrow('--shard 3/3: shard indices run from 0 to 2 (0/3 is the first, 2/3 the last)');
    expect(() => parseShard('1/0')).toThrow('the number of shards must be at least 1');
    expect(() => parseShard('a/b')).toThrow("--shard 'a/b': expected i/N");
  });

  it('3 shards of 10 records merge into exactly one whole run, and say which records they hold', async () => {
    const parts = await shards(3, 's');
    expect(parts.map((p) => readDbMeta(p)!.records)).toEqual([
      { start: 0, end: 3, total: 10 },
      { start: 3, end: 6, total: 10 },
      { start: 6, end: 10, total: 10 },
    ]);
    expect((await rawRecords(parts[1]!)).map(([k]) => k)).toEqual(['00000003', '00000004', '00000005']);
    const merged = path.join(dir, 'merged_lmdb');
    const r = await mergeShards({ inputs: [parts[2]!, parts[0]!, parts[1]!], out: merged, source });
    expect(await rawRecords(merged)).toEqual(whole);
    expect(r.meta).toMatchObject({ shard: { index: 0, count: 1 }, records: { start: 0, end: 10, total: 10 }, dim: 3, merged_from: parts });
    expect(readDbMeta(merged)).toEqual(r.meta);
  });

  it('more shards than records (empty shards) and shards in mixed formats merge too', async () => {
    const many = await shards(12, 'm');
    const merged = path.join(dir, 'merged12_leveldb');
    await mergeShards({ inputs: many, out: merged, format: 'leveldb' });
    expect(await rawRecords(merged)).toEqual(whole);
    const mixed = await shards(3, 'x', ['hdf5', 'leveldb', 'hdf5']);
    const h5 = path.join(dir, 'merged.h5');
    await mergeShards({ inputs: mixed, out: h5 });
    const back = await openTargets(h5);
    const rows: Array<[string, number[]]> = [];
    for await (const rec of back.records()) rows.push([rec.key.toString(), Array.from(rec.values)]);
    const wholeSet = await openTargets(path.join(dir, 'whole_lmdb'));
    const expected: Array<[string, number[]]> = [];
    for await (const rec of wholeSet.records()) expected.push([rec.key.toString(), Array.from(rec.values)]);
    await wholeSet.close();
    expect(rows).toEqual(expected);
    expect(back.meta?.records).toEqual({ start: 0, end: RECORDS, total: RECORDS });
  });

  it('refuses a duplicated, a missing or a foreign shard with one clear error, writing nothing', async () => {
    const [a, b, c] = await shards(3, 'r');
    const out = path.join(dir, 'refused_lmdb');
    await expect(mergeShards({ inputs: [a!, b!, b!, c!], out })).rejects.toThrow(`shard 1/3 is given twice: ${b} and ${b}`);
    await expect(mergeShards({ inputs: [a!, c!], out })).rejects.toThrow(`shard 1/3 of 3 is missing (given: 0/3 ${a}, 2/3 ${c})`);
    const logits = path.join(dir, 'logits_1_of_3');
    await extractSoftTargets({ ...base(), temperature: undefined, logits: true, out: logits, shard: { index: 1, count: 3 } });
    await expect(mergeShards({ inputs: [a!, logits, c!], out })).rejects.toThrow(/logits_1_of_3 is shard 1\/3 of 10 records, blob 'fc', .*logits.* but .* is .*softmax.*: not shards of one extraction/);
    await expect(mergeShards({ inputs: [source], out })).rejects.toThrow(`${source}: no kdnet extract metadata`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--source checks every key against the source database', async () => {
    const other = path.join(dir, 'other_lmdb');
    await writeSource(other, 'lmdb', 11);
    const parts = await shards(2, 'k');
    await expect(mergeShards({ inputs: parts, out: path.join(dir, 'k_lmdb'), source: other })).rejects.toThrow(`${other} holds 11 records but the shards were cut from a source of 10`);
    // Same count, other keys (10-digit, as some forks write them).
    const wide = path.join(dir, 'wide_lmdb');
    await writeDatums(wide, 'lmdb', Array.from({ length: RECORDS }, () => ({ channels: 1, height: 1, width: 1, data: Uint8Array.of(0) })), 10);
    await expect(mergeShards({ inputs: parts, out: path.join(dir, 'k_lmdb'), source: wide })).rejects.toThrow(`${parts[0]}: key '00000000' where ${wide} has '0000000000'`);
    expect(fs.existsSync(path.join(dir, 'k_lmdb'))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => /\.(part|tmp|old)$/.test(f))).toEqual([]);
  });
});
