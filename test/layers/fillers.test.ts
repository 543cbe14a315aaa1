// Filler statistics, as Caffe's filler tests check them (test_filler.cpp): ranges, means, spreads, sparsity.
import { describe, expect, it } from 'vitest';
import { fillValues } from '../../src/layers/fillers.js';
import { newMessage } from '../../src/proto/schema.js';
import { Rng } from '../../src/util/rng.js';
import { KdnetError } from '../../src/errors.js';

const filler = (fields: Record<string, unknown>) => newMessage('FillerParameter', fields);
const mean = (v: Float32Array) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: Float32Array) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / v.length);

describe('fillers', () => {
  const shape = [20, 10, 5, 6]; // fan_in = 300, fan_out = 600
  it('constant', () => {
    expect(new Set(fillValues(filler({ type: 'constant', value: 0.3 }), shape, new Rng(1)))).toEqual(new Set([Math.fround(0.3)]));
    expect(new Set(fillValues(undefined, [3], new Rng(1)))).toEqual(new Set([0]));
  });
  it('uniform stays in [min, max] with the right mean', () => {
    const v = fillValues(filler({ type: 'uniform', min: -2, max: 3 }), shape, new Rng(2));
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThanOrEqual(3);
    expect(mean(v)).toBeCloseTo(0.5, 1);
  });
  it('gaussian has the given mean and std', () => {
    const v = fillValues(filler({ type: 'gaussian', mean: 1, std: 2 }), shape, new Rng(3));
    expect(mean(v)).toBeCloseTo(1, 1);
    expect(std(v)).toBeCloseTo(2, 1);
  });
  it('sparse gaussian keeps about sparse / num_outputs of the weights', () => {
    const v = fillValues(filler({ type: 'gaussian', std: 1, sparse: 5 }), [20, 300], new Rng(4));
    const nonzero = v.filter((x) => x !== 0).length / v.length;
    expect(nonzero).toBeCloseTo(5 / 20, 1);
  });
  it('positive_unitball rows are positive and sum to 1', () => {
    const v = fillValues(filler({ type: 'positive_unitball' }), [4, 3, 2, 2], new Rng(5));
    for (let r = 0; r < 4; r++) {
      const row = v.slice(r * 12, (r + 1) * 12);
      expect(Math.min(...row)).toBeGreaterThan(0);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
  for (const [norm, fan] of [[0, 300], [1, 600], [2, 450]] as const) {
    it(`xavier (variance_norm ${['FAN_IN', 'FAN_OUT', 'AVERAGE'][norm]}) is uniform in ±sqrt(3/fan)`, () => {
      const v = fillValues(filler({ type: 'xavier', variance_norm: norm }), shape, new Rng(6));
      const limit = Math.sqrt(3 / fan);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(limit + 1e-7);
      expect(std(v)).toBeCloseTo(limit / Math.sqrt(3), 2);
    });
    it(`msra (variance_norm ${['FAN_IN', 'FAN_OUT', 'AVERAGE'][norm]}) has std sqrt(2/fan)`, () => {
      const v = fillValues(filler({ type: 'msra', variance_norm: norm }), shape, new Rng(7));
      expect(mean(v)).toBeCloseTo(0, 2);
      expect(std(v)).toBeCloseTo(Math.sqrt(2 / fan), 2);
    });
  }
  it('bilinear makes the upsampling kernel', () => {
    // kernel 4 (factor 2): 1-D weights [0.25, 0.75, 0.75, 0.25]; the 2-D kernel is their outer product.
    const v = fillValues(filler({ type: 'bilinear' }), [1, 1, 4, 4], new Rng(8));
    const w = [0.25, 0.75, 0.75, 0.25];
    expect(Array.from(v)).toEqual(w.flatMap((a) => w.map((b) => a * b)));
    expect(() => fillValues(filler({ type: 'bilinear' }), [1, 1, 3, 4], new Rng(8))).toThrow(KdnetError);
  });
  it('is reproducible from its seed and rejects unknown types', () => {
    const a = fillValues(filler({ type: 'gaussian' }), [50], new Rng(9));
    const b = fillValues(filler({ type: 'gaussian' }), [50], new Rng(9));
    expect(a).toEqual(b);
    expect(() => fillValues(filler({ type: 'he' }), [3], new Rng(1))).toThrow("unknown filler type 'he'");
  });
});
