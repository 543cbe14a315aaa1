// Caffe's DataTransformer: crop (random TRAIN / central TEST), mirror, mean file or mean values, scale, in
// Caffe's order; shapes checked against the mean.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { DataTransformer, transformSettings } from '../../src/data/transform.js';
import { writeMeanFile, readMeanFile } from '../../src/data/mean.js';
import { Rng } from '../../src/util/rng.js';
import { KdnetError } from '../../src/errors.js';
import { tempDir } from '../support/data.js';

const dir = tempDir();
// 2×3×4 source: value = 100·c + 10·h + w.
const shape = { channels: 2, height: 3, width: 4 };
const src = Float32Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 4) + (i % 4));

function run(param: Record<string, unknown>, train = false, seed = 1): { out: Float32Array; shape: number[] } {
  const t = new DataTransformer(transformSettings(param), train, new Rng(seed));
  const s = t.outputShape(shape, 'test');
  const out = new Float32Array(s.channels * s.height * s.width);
  t.transform(src, shape, out, 0, 'test');
  return { out, shape: [s.channels, s.height, s.width] };
}

describe('DataTransformer', () => {
  it('scale and per-channel mean values: (x − mean[c]) · scale', () => {
    const { out } = run({ scale: 0.5, mean_value: [1, 100] });
    expect(Array.from(out)).toEqual(Array.from(src, (v, i) => (v - (i < 12 ? 1 : 100)) * 0.5));
  });

  it('a single mean value applies to every channel', () => {
    const { out } = run({ mean_value: [3] });
    expect(Array.from(out)).toEqual(Array.from(src, (v) => v - 3));
  });

  it('central crop in TEST', () => {
    const { out, shape: s } = run({ crop_size: 2 });
    expect(s).toEqual([2, 2, 2]);
    // h offset (3−2)>>1 = 0, w offset (4−2)>>1 = 1
    expect(Array.from(out)).toEqual([1, 2, 11, 12, 101, 102, 111, 112]);
  });

  it('random crops in TRAIN stay inside the image and cover every offset', () => {
    const seen = new Set<string>();
    const t = new DataTransformer(transformSettings({ crop_size: 2 }), true, new Rng(5));
    for (let k = 0; k < 200; k++) {
      const out = new Float32Array(8);
      t.transform(src, shape, out, 0, 'test');
      const h = Math.floor(out[0]! / 10);
      const w = out[0]! % 10;
      expect(Array.from(out)).toEqual([0, 1, 10, 11, 100, 101, 110, 111].map((v) => v + 10 * h + w));
      seen.add(`${h},${w}`);
    }
    expect(seen.size).toBe(2 * 3);
  });

  it('mirror flips rows horizontally about half the time', () => {
    const t = new DataTransformer(transformSettings({ mirror: true }), false, new Rng(9));
    let flipped = 0;
    for (let k = 0; k < 400; k++) {
      const out = new Float32Array(24);
      t.transform(src, shape, out, 0, 'test');
      if (out[0] === 3) {
        flipped++;
        expect(Array.from(out.slice(0, 4))).toEqual([3, 2, 1, 0]);
      } else expect(out[0]).toBe(0);
    }
    expect(flipped).toBeGreaterThan(160);
    expect(flipped).toBeLessThan(240);
  });

  it('a mean file is subtracted before cropping, indexed on the full image, then scaled', () => {
    const meanFile = path.join(dir, 'mean.binaryproto');
    const mean = Float32Array.from({ length: 24 }, (_, i) => i / 4);
    writeMeanFile(meanFile, { ...shape, data: mean });
    expect(Array.from(readMeanFile(meanFile).data)).toEqual(Array.from(mean));
    const { out } = run({ mean_file: meanFile, crop_size: 2, scale: 2 });
    const full = [1, 2, 5, 6, 13, 14, 17, 18]; // indices of the central crop in the 2×3×4 source
    expect(Array.from(out)).toEqual(full.map((i) => Math.fround((src[i]! - mean[i]!) * 2)));
  });

  it('refuses a mean file of another shape, mean_file with mean_value, and too many mean values', () => {
    const meanFile = path.join(dir, 'small.binaryproto');
    writeMeanFile(meanFile, { channels: 1, height: 3, width: 4, data: new Float32Array(12) });
    expect(() => run({ mean_file: meanFile })).toThrow(/the mean file is 1×3×4 but the data is 2×3×4/);
    expect(() => run({ mean_file: meanFile, mean_value: [1] })).toThrow(KdnetError);
    expect(() => run({ mean_value: [1, 2, 3] })).toThrow(/3 mean_value entries for 2 channels/);
    expect(() => run({ crop_size: 5 })).toThrow(/smaller than crop_size 5/);
  });
});
