// convert-cifar against Caffe's convert_cifar_data semantics, on small batch files written here: keys %05d of
// batch × 10000 + index, 3×32×32 Datums holding the R,G,B planes as they are, labels; the Data layer reads the
// same bytes back; bad input (missing or truncated batch, bad label, existing output) is one error naming the file.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../../src/backend/select.js';
import { convertCifar, CIFAR_RECORD_BYTES, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES } from '../../../src/data/tools/index.js';
import { openDbReader } from '../../../src/data/db/index.js';
import { decodeDatum } from '../../../src/data/datum.js';
import { KdnetError } from '../../../src/errors.js';
import { runCli } from '../../../src/cli/main.js';
import { bufferIO } from '../../../src/cli/io.js';
import { dataNet, netFromText, tempDir } from '../../support/data.js';

const dir = tempDir('kdnet-cifar-');

/** One record's known bytes: label, then 3072 pixels that differ per batch, record and position. */
function record(batch: number, item: number): { label: number; pixels: Uint8Array } {
  return { label: (batch * 3 + item) % 10, pixels: Uint8Array.from({ length: 3072 }, (_, i) => (batch * 101 + item * 29 + i * 7 + (i >> 10) * 13) & 255) };
}

/** Writes a batches folder: `sizes[0..4]` records in data_batch_1..5.bin, `sizes[5]` in test_batch.bin. */
function writeBatches(folder: string, sizes = [3, 2, 1, 2, 4, 3]): void {
  fs.mkdirSync(folder, { recursive: true });
  [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].forEach((file, b) => {
    const bytes = Buffer.alloc(sizes[b]! * CIFAR_RECORD_BYTES);
    for (let i = 0; i < sizes[b]!; i++) {
      const r = record(b, i);
      bytes[i * CIFAR_RECORD_BYTES] = r.label;
      bytes.set(r.pixels, i * CIFAR_RECORD_BYTES + 1);
    }
    fs.writeFileSync(path.join(folder, file), bytes);
  });
}

async function records(dbPath: string) {
  const r = await openDbReader(dbPath);
  const out = [];
  for await (const { key, value } of r.records()) out.push({ key: key.toString(), datum: decodeDatum(value, key.toString()) });
  await r.close();
  return out;
}

beforeAll(async () => {
  await initBackend('cpu', true);
  writeBatches(path.join(dir, 'bin'));
});

describe('convert-cifar', () => {
  it('keys, shapes, bytes and labels as Caffe writes them (LMDB and LevelDB)', async () => {
    for (const backend of ['lmdb', 'leveldb'] as const) {
      const out = path.join(dir, `out_${backend}`);
      const r = await convertCifar(path.join(dir, 'bin'), out, backend);
      expect(r.train).toEqual({ db: path.join(out, `cifar10_train_${backend}`), records: 12 });
      expect(r.test).toEqual({ db: path.join(out, `cifar10_test_${backend}`), records: 3 });
      const train = await records(r.train.db);
      expect(train.map((x) => x.key)).toEqual(['00000', '00001', '00002', '10000', '10001', '20000', '30000', '30001', '40000', '40001', '40002', '40003']);
      for (const { key, datum } of train) {
        const n = Number(key);
        const want = record(Math.floor(n / 10000), n % 10000);
        expect(datum).toMatchObject({ channels: 3, height: 32, width: 32, label: want.label, encoded: false });
        expect(Buffer.from(datum.data).equals(Buffer.from(want.pixels))).toBe(true);
      }
      const test = await records(r.test.db);
      expect(test.map((x) => x.key)).toEqual(['00000', '00001', '00002']);
      expect(test.map((x) => x.datum.label)).toEqual([0, 1, 2].map((i) => record(5, i).label));
      expect(Buffer.from(test[2]!.datum.data).equals(Buffer.from(record(5, 2).pixels))).toBe(true);
    }
  });

  it('the Data layer reads the planes back unchanged (R,G,B order kept, as Caffe stores them)', async () => {
    const db = path.join(dir, 'out_lmdb', 'cifar10_test_lmdb');
    const net = netFromText(dataNet(db, 'LMDB', 3));
    net.forward();
    expect(net.blobShape('data')).toEqual([3, 3, 32, 32]);
    const data = net.blob('data').dataSync();
    for (let i = 0; i < 3; i++) expect(Array.from(data.subarray(i * 3072, (i + 1) * 3072))).toEqual(Array.from(record(5, i).pixels));
    expect(Array.from(net.blob('label').dataSync())).toEqual([0, 1, 2].map((i) => record(5, i).label));
  });

  it('a missing batch file is one error naming it, before anything is written', async () => {
    const folder = path.join(dir, 'missing');
    writeBatches(folder);
    fs.rmSync(path.join(folder, 'data_batch_4.bin'));
    const out = path.join(dir, 'out_missing');
    const e = await convertCifar(folder, out).catch((x) => x);
    expect(e).toBeInstanceOf(KdnetError);
    expect(e.message).toMatch(new RegExp(`^${path.join(folder, 'data_batch_4.bin')}: no such file`));
    expect(fs.existsSync(path.join(out, 'cifar10_train_lmdb'))).toBe(false);
  });

  it('a truncated record or a label above 9 is one error naming the file and record; nothing is written', async () => {
    const folder = path.join(dir, 'truncated');
    writeBatches(folder);
    const test = path.join(folder, 'test_batch.bin');
    fs.truncateSync(test, 2 * CIFAR_RECORD_BYTES + 100);
    const e = await convertCifar(folder, path.join(dir, 'out_truncated')).catch((x) => x);
    expect(e).toBeInstanceOf(KdnetError);
    expect(e.message).toMatch(new RegExp(`^${test}: record 2 is truncated`));
    expect(fs.existsSync(path.join(dir, 'out_truncated', 'cifar10_train_lmdb'))).toBe(false);

    writeBatches(folder);
    const bytes = fs.readFileSync(path.join(folder, 'data_batch_2.bin'));
    bytes[CIFAR_RECORD_BYTES] = 57;
    fs.writeFileSync(path.join(folder, 'data_batch_2.bin'), bytes);
    await expect(convertCifar(folder, path.join(dir, 'out_label'))).rejects.toThrow(/data_batch_2\.bin: record 1 has label 57; CIFAR-10's labels are 0 to 9/);
  });

  it('through the CLI: --help, the result line, and exit 1 with one message', async () => {
    const help = bufferIO();
    expect(await runCli(['convert-cifar', '--help'], help)).toBe(0);
    expect(help.stdout).toContain('convert-cifar [options] <in_dir> <out_dir>');
    const ok = bufferIO();
    const out = path.join(dir, 'cli');
    expect(await runCli(['convert-cifar', path.join(dir, 'bin'), out, '-backend=leveldb'], ok), ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`wrote 12 records to ${out}/cifar10_train_leveldb and 3 records to ${out}/cifar10_test_leveldb\n`);
    expect(ok.stderr).toContain('Writing Testing data');
    const again = bufferIO();
    expect(await runCli(['convert-cifar', path.join(dir, 'bin'), out, '--backend', 'leveldb'], again)).toBe(1);
    expect(again.stderr).toBe(`error: ${out}/cifar10_train_leveldb already exists (remove it first; kdnet does not overwrite a database)\n`);
    const none = bufferIO();
    expect(await runCli(['convert-cifar', path.join(dir, 'nowhere'), out], none)).toBe(1);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain(`${path.join(dir, 'nowhere', 'data_batch_1.bin')}: no such file`);
  });
});
