// The data commands through the CLI: Caffe-style flags, their outputs, and one-line errors.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { readMeanFile } from '../../src/data/mean.js';
import { dbInfo } from '../../src/data/tools/index.js';
import { initBackend } from '../../src/backend/select.js';
import { writeNpy } from '../../src/util/npy.js';
import { tempDir, writePngs } from '../support/data.js';
import { projectRoot } from '../support/shared.js';

const dir = tempDir('kdnet-data-cli-');
const subset = path.join(projectRoot, 'data', 'fashion-mnist', 'subset');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('data commands', () => {
  it('kdnet data fashion-mnist builds the two LMDBs of the shipped subset', async () => {
    const r = await run('data', 'fashion-mnist', '--out', path.join(dir, 'fm'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('10000 training and 2000 test images');
    const test = await dbInfo(path.join(dir, 'fm', 'fashion_test_lmdb'));
    expect([test.count, test.shape]).toEqual([2000, [1, 28, 28]]);
    expect([...test.labels.values()]).toEqual(new Array(10).fill(200));
  });

  it('convert-mnist (Caffe-style -backend=leveldb), then db-info and compute-image-mean', async () => {
    const db = path.join(dir, 'fm_test_leveldb');
    const c = await run('convert-mnist', path.join(subset, 't10k-images-idx3-ubyte.gz'), path.join(subset, 't10k-labels-idx1-ubyte.gz'), db, '-backend=leveldb');
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(`wrote 2000 records to ${db}\n`);
    const info = await run('db-info', db);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(`${db}: leveldb, 2000 records\nfirst keys: 00000000, 00000001, 00000002, 00000003, 00000004\ndatum shape: 1×28×28 (raw bytes)\n`);
    expect(info.stdout).toMatch(/^9\s+200$/m);
    const meanFile = path.join(dir, 'mean.binaryproto');
    const m = await run('compute-image-mean', db, meanFile);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).toContain('Number of channels: 1');
    const mean = readMeanFile(meanFile);
    expect([mean.channels, mean.height, mean.width]).toEqual([1, 28, 28]);
    // Fashion-MNIST's test images average about 73 per pixel; a border pixel is darker than the centre.
    const avg = mean.data.reduce((s, v) => s + v, 0) / mean.data.length;
    expect(avg).toBeGreaterThan(60);
    expect(avg).toBeLessThan(85);
    expect(mean.data[0]!).toBeLessThan(mean.data[14 * 28 + 14]!);
  });

  it('convert-imageset with Caffe\'s flags, and convert-vectors', async () => {
    const imgs = path.join(dir, 'imgs');
    fs.mkdirSync(imgs);
    await writePngs(imgs, 3, 3, 8, 8);
    fs.writeFileSync(path.join(dir, 'list.txt'), 'img0.png 0\nimg1.png 1\nimg2.png 2\n');
    const db = path.join(dir, 'set_lmdb');
    const r = await run('convert-imageset', `${imgs}/`, path.join(dir, 'list.txt'), db, '-resize_height=4', '-resize_width=4', '--gray', '--encoded', '--encode_type=png');
    expect(r.code, r.stderr).toBe(0);
    const info = await dbInfo(db);
    expect([info.count, info.shape, info.encoded]).toEqual([3, [1, 4, 4], true]);
    writeNpy(path.join(dir, 'soft.npy'), Float32Array.from({ length: 30 }, (_, i) => i / 30), [3, 10]);
    const v = await run('convert-vectors', path.join(dir, 'soft.npy'), path.join(dir, 'soft_lmdb'));
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`wrote 3 vectors of 10 values to ${path.join(dir, 'soft_lmdb')}\n`);
    expect((await dbInfo(path.join(dir, 'soft_lmdb'))).shape).toEqual([10, 1, 1]);
  });

  it('bad input: one line, exit code 1, no stack trace, nothing written', async () => {
    const missing = await run('db-info', path.join(dir, 'nothing_lmdb'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`error: ${path.join(dir, 'nothing_lmdb')}: no such database`);
    const wrong = await run('db-info', path.join(dir, 'set_lmdb'), '--backend', 'leveldb');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/this is an LMDB database but the backend is LEVELDB/);
    fs.writeFileSync(path.join(dir, 'bad-list.txt'), 'img0.png 0\nimg9.png 1\n');
    const bad = await run('convert-imageset', `${dir}/imgs/`, path.join(dir, 'bad-list.txt'), path.join(dir, 'bad_lmdb'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad-list\.txt:2: .*img9\.png: no such image/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('bad_lmdb'))).toEqual([]);
  });
});
