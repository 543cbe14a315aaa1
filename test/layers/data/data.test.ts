// The Data layer's cursor and decoding: TRAIN/TEST cursors independent, wrap-around with Caffe's log line,
// rand_skip, prefetch depth, encoded records decoded per force_color/force_gray, mean files beside the net.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../../src/backend/select.js';
import { setLogSink } from '../../../src/log.js';
import { encodeImage } from '../../../src/data/image.js';
import { writeMeanFile } from '../../../src/data/mean.js';
import { Phase } from '../../../src/net/net-state.js';
import type { DataLayer } from '../../../src/layers/data/data.js';
import type { KdnetError } from '../../../src/errors.js';
import { dataNet, netFromText, pixels, tempDir, writeDatums } from '../../support/data.js';

const dir = tempDir();
const db = path.join(dir, 'ten_lmdb');

beforeAll(async () => {
  await initBackend('cpu', true);
  await writeDatums(db, 'lmdb', Array.from({ length: 10 }, (_, i) => ({ channels: 1, height: 2, width: 2, data: pixels(i, 1, 2, 2), label: i })));
});

const labels = (net: ReturnType<typeof netFromText>) => Array.from(net.blob('label').dataSync());

describe('Data layer', () => {
  it('TRAIN and TEST nets keep their own cursors; both wrap around like Caffe and say so', () => {
    const lines: string[] = [];
    const previous = setLogSink((_l, m) => lines.push(m));
    try {
      const train = netFromText(dataNet(db, 'LMDB', 4), Phase.TRAIN);
      const test = netFromText(dataNet(db, 'LMDB', 3), Phase.TEST);
      train.forward();
      expect(labels(train)).toEqual([0, 1, 2, 3]);
      test.forward();
      expect(labels(test)).toEqual([0, 1, 2]);
      train.forward();
      train.forward();
      expect(labels(train)).toEqual([8, 9, 0, 1]);
      test.forward();
      expect(labels(test)).toEqual([3, 4, 5]);
    } finally {
      setLogSink(previous);
    }
    expect(lines).toContain('Restarting data prefetching from start.');
    expect(lines.some((l) => l.startsWith('Opened lmdb ') && l.endsWith('ten_lmdb'))).toBe(true);
    expect(lines).toContain('output data size: 4,1,2,2');
  });

  it('rand_skip starts at a random record below rand_skip', () => {
    const starts = new Set<number>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const net = netFromText(dataNet(db, 'LMDB', 2, '', true, 'rand_skip: 5'), Phase.TRAIN, seed);
      net.forward();
      const [a, b] = labels(net);
      expect(a).toBeLessThan(5);
      expect(b).toBe((a! + 1) % 10);
      starts.add(a!);
      net.dispose();
    }
    expect(starts.size).toBeGreaterThan(1);
  });

  it('prefetch: 1 gives the same batches as the default depth, and records its data wait', () => {
    const deep = netFromText(dataNet(db, 'LMDB', 3));
    const shallow = netFromText(dataNet(db, 'LMDB', 3, '', true, 'prefetch: 1'));
    for (let k = 0; k < 5; k++) {
      deep.forward();
      shallow.forward();
      expect(labels(shallow)).toEqual(labels(deep));
      expect(Array.from(shallow.blob('data').dataSync())).toEqual(Array.from(deep.blob('data').dataSync()));
    }
    expect((shallow.layer('data') as DataLayer).dataWaitMs).toBeGreaterThanOrEqual(0);
  });

  it('encoded gray PNGs: native 1 channel, force_color 3 equal channels', async () => {
    const enc = path.join(dir, 'gray_png_lmdb');
    const px = [pixels(1, 1, 3, 4), pixels(2, 1, 3, 4)];
    const files = await Promise.all(px.map((p) => encodeImage({ channels: 1, height: 3, width: 4, data: p }, 'png')));
    await writeDatums(enc, 'lmdb', files.map((data, i) => ({ data, encoded: true, label: i })));
    const native = netFromText(dataNet(enc, 'LMDB', 2));
    native.forward();
    expect(native.blobShape('data')).toEqual([2, 1, 3, 4]);
    expect(Array.from(native.blob('data').dataSync())).toEqual([...px[0]!, ...px[1]!]);
    const color = netFromText(dataNet(enc, 'LMDB', 2, 'force_color: true'));
    color.forward();
    expect(color.blobShape('data')).toEqual([2, 3, 3, 4]);
    expect(Array.from(color.blob('data').dataSync())).toEqual(px.flatMap((p) => [...p, ...p, ...p]));
  });

  it('a mean file named relative to the net\'s folder, subtracted then scaled', () => {
    const mean = Float32Array.from({ length: 4 }, (_, i) => i + 0.5);
    writeMeanFile(path.join(dir, 'mean.binaryproto'), { channels: 1, height: 2, width: 2, data: mean });
    const net = netFromText(dataNet(db, 'LMDB', 1, 'mean_file: "mean.binaryproto" scale: 0.5'), Phase.TEST, 1, dir);
    net.forward();
    expect(Array.from(net.blob('data').dataSync())).toEqual(Array.from(pixels(0, 1, 2, 2), (v, i) => (v - mean[i]!) * 0.5));
  });

  it('an error in a later batch (a corrupt record) surfaces at that forward pass, naming the record', async () => {
    const bad = path.join(dir, 'late_bad_lmdb');
    await writeDatums(bad, 'lmdb', [
      { channels: 1, height: 1, width: 2, data: pixels(0, 1, 1, 2) },
      { channels: 1, height: 1, width: 2, data: Uint8Array.of(9) },
    ]);
    const net = netFromText(dataNet(bad, 'LMDB', 1));
    net.forward();
    expect(() => net.forward()).toThrow(/late_bad_lmdb: record '00000001': Datum holds 1 bytes but its shape 1×1×2 needs 2/);
    expect(fs.existsSync(bad)).toBe(true);
  });

  it('resumes exactly from a saved cursor: same records, same random crops and mirrors', () => {
    const text = dataNet(db, 'LMDB', 3, 'crop_size: 1 mirror: true');
    const a = netFromText(text, Phase.TRAIN, 21);
    for (let k = 0; k < 4; k++) a.forward(); // crosses the end of the 10 records
    const state = a.saveState();
    const expected: number[][] = [];
    for (let k = 0; k < 3; k++) {
      a.forward();
      expected.push([...labels(a), ...Array.from(a.blob('data').dataSync())]);
    }
    const b = netFromText(text, Phase.TRAIN, 99);
    b.restoreState(JSON.parse(JSON.stringify(state)));
    for (let k = 0; k < 3; k++) {
      b.forward();
      expect([...labels(b), ...Array.from(b.blob('data').dataSync())]).toEqual(expected[k]);
    }
  });

  it('a batch_size beyond the run-time size limit is one error naming the layer before the batch is read', () => {
    const text = dataNet(db, 'LMDB', 1_000_000_000);
    const before = process.memoryUsage().rss;
    let report = '';
    try {
      netFromText(text, Phase.TRAIN);
    } catch (e) {
      report = (e as KdnetError).report();
    }
    expect(report).toMatch(/layer "data".*a batch of shape \[1000000000, 1, 2, 2\].*4000000000 elements, more than the run-time limit/s);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
  });
});
