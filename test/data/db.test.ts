// Databases written by other writers than kdnet's (the bindings' raw APIs, with Caffe's key formats), read
// by the Data layer; kdnet's own writer is atomic; bad databases are one clear error.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { open } from 'lmdb';
import { ClassicLevel } from 'classic-level';
import { initBackend } from '../../src/backend/select.js';
import { encodeDatum } from '../../src/data/datum.js';
import { createDbWriter, openDbReader, detectBackend } from '../../src/data/db/index.js';
import { KdnetError } from '../../src/errors.js';
import { dataNet, netFromText, pixels, tempDir, writeDatums } from '../support/data.js';

const dir = tempDir();

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('Data reads databases written by the storage libraries directly', () => {
  it('an LMDB written with the lmdb binding (keys %08d, raw uint8 Datums)', async () => {
    const dbPath = path.join(dir, 'foreign_lmdb');
    const db = open({ path: dbPath, noSubdir: false, encoding: 'binary', keyEncoding: 'binary' });
    // Written out of key order on purpose: LMDB sorts, and Caffe reads in key order.
    for (const i of [2, 0, 3, 1]) {
      db.putSync(Buffer.from(String(i).padStart(8, '0')), Buffer.from(encodeDatum({ channels: 2, height: 3, width: 4, data: pixels(i, 2, 3, 4), label: 10 + i })));
    }
    await db.close();
    expect(fs.readdirSync(dbPath).sort()).toEqual(['data.mdb', 'lock.mdb']);
    const net = netFromText(dataNet(dbPath, 'LMDB', 3));
    net.forward();
    expect(net.blobShape('data')).toEqual([3, 2, 3, 4]);
    expect(Array.from(net.blob('label').dataSync())).toEqual([10, 11, 12]);
    expect(Array.from(net.blob('data').dataSync())).toEqual([...pixels(0, 2, 3, 4), ...pixels(1, 2, 3, 4), ...pixels(2, 2, 3, 4)]);
    // Wrap-around: record 3, then 0 and 1 again.
    net.forward();
    expect(Array.from(net.blob('label').dataSync())).toEqual([13, 10, 11]);
  });

  it('a LevelDB written with classic-level (keys %010d, float_data Datums, snappy tables)', async () => {
    const dbPath = path.join(dir, 'foreign_leveldb');
    const db = new ClassicLevel<Buffer, Buffer>(dbPath, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const rows = [0, 1, 2, 3, 4].map((i) => [i * 0.5, -i, i * i / 3]);
    await db.batch(rows.map((r, i) => ({ type: 'put' as const, key: Buffer.from(String(i).padStart(10, '0')), value: Buffer.from(encodeDatum({ channels: 3, height: 1, width: 1, float_data: r, label: 0 })) })));
    await db.close();
    expect(detectBackend(dbPath)).toBe('leveldb');
    // The second-database pattern of old distillation setups: one top, float vectors, label ignored.
    const net = netFromText(dataNet(dbPath, 'LEVELDB', 5, '', false));
    net.forward();
    expect(net.blobShape('data')).toEqual([5, 3, 1, 1]);
    expect(Array.from(net.blob('data').dataSync())).toEqual(Array.from(Float32Array.from(rows.flat())));
  });
});

describe('kdnet writes Caffe databases atomically', () => {
  it('publishes the database only when finished, and readers see every record', async () => {
    for (const backend of ['lmdb', 'leveldb'] as const) {
      const target = path.join(dir, `atomic_${backend}`);
      const w = createDbWriter(target, backend);
      for (let i = 0; i < 2500; i++) await w.put(String(i).padStart(8, '0'), Uint8Array.of(i & 255));
      expect(fs.existsSync(target)).toBe(false);
      await w.finish();
      const r = await openDbReader(target);
      expect(r.backend).toBe(backend);
      expect(await r.count()).toBe(2500);
      const keys: string[] = [];
      for await (const { key, value } of r.records()) {
        if (keys.length < 3) keys.push(`${key.toString()}:${value[0]}`);
      }
      await r.close();
      expect(keys).toEqual(['00000000:0', '00000001:1', '00000002:2']);
    }
  });

  it('an aborted write leaves nothing behind, and an existing database is never overwritten', async () => {
    const target = path.join(dir, 'aborted_lmdb');
    const w = createDbWriter(target, 'lmdb');
    await w.put('00000000', Uint8Array.of(1));
    await w.abort();
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('aborted_lmdb'))).toEqual([]);
    fs.mkdirSync(target);
    expect(() => createDbWriter(target, 'lmdb')).toThrow(/aborted_lmdb already exists/);
  });
});

describe('bad databases are one clear error naming the database', () => {
  it('a missing database', () => {
    let error: unknown;
    try {
      netFromText(dataNet(path.join(dir, 'nope_lmdb'), 'LMDB', 1));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KdnetError);
    expect((error as KdnetError).oneLine).toMatch(/^net.prototxt:1:\d+: layer "data" \(Data\).*nope_lmdb: no such database$/);
  });

  it('a wrong backend', async () => {
    expect(() => netFromText(dataNet(path.join(dir, 'foreign_lmdb'), 'LEVELDB', 1))).toThrow(/foreign_lmdb: this is an LMDB database but the backend is LEVELDB/);
    expect(() => netFromText(dataNet(path.join(dir, 'foreign_leveldb'), 'LMDB', 1))).toThrow(/foreign_leveldb: this is a LevelDB database but the backend is LMDB/);
  });

  it('a record that is not a Datum, and a Datum whose shape differs from the batch\'s first', async () => {
    const junk = path.join(dir, 'junk_lmdb');
    const w = createDbWriter(junk, 'lmdb');
    await w.put('00000000', Uint8Array.of(0xff, 0xff, 0xff));
    await w.finish();
    expect(() => netFromText(dataNet(junk, 'LMDB', 1))).toThrow(/junk_lmdb: record '00000000': not a Caffe Datum/);

    const mixed = path.join(dir, 'mixed_lmdb');
    const m = createDbWriter(mixed, 'lmdb');
    await m.put('00000000', encodeDatum({ channels: 1, height: 2, width: 2, data: pixels(0, 1, 2, 2) }));
    await m.put('00000001', encodeDatum({ channels: 1, height: 2, width: 3, data: pixels(1, 1, 2, 3) }));
    await m.finish();
    expect(() => netFromText(dataNet(mixed, 'LMDB', 2))).toThrow(/mixed_lmdb: record '00000001': shape 1×2×3 differs from 1×2×2 of the batch's first sample \(.*record '00000000'\)/);

    const short = path.join(dir, 'short_lmdb');
    const s = createDbWriter(short, 'lmdb');
    await s.put('00000000', encodeDatum({ channels: 1, height: 2, width: 2, data: Uint8Array.of(1, 2, 3) }));
    await s.finish();
    expect(() => netFromText(dataNet(short, 'LMDB', 1))).toThrow(/short_lmdb: record '00000000': Datum holds 3 bytes but its shape 1×2×2 needs 4/);
  });

  it('a LevelDB already open elsewhere in the process names the limit', async () => {
    const level = path.join(dir, 'shared_leveldb');
    await writeDatums(level, 'leveldb', [{ channels: 3, height: 1, width: 1, float_data: [1, 2, 3] }]);
    const first = netFromText(dataNet(level, 'LEVELDB', 1, '', false));
    first.forward();
    expect(() => netFromText(dataNet(level, 'LEVELDB', 1, '', false))).toThrow(/LevelDB allows one open handle at a time/);
    first.dispose();
    // Once the first net lets go, the database opens again.
    const again = netFromText(dataNet(level, 'LEVELDB', 1, '', false));
    again.forward();
    expect(again.blobShape('data')).toEqual([1, 3, 1, 1]);
  });
});
