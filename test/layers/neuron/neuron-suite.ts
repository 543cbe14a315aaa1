// Tests of the neuron layer family on one backend: finite-difference gradient checks of every layer with a
// backward, Caffe's special cases (Power's gradient shortcuts, BNLL's threshold, in-place reads of the
// bottom, Threshold's missing backward), configuration errors, Dropout's mask (with the structural check of
// the dropout_train fixture), and Scale/Bias parameter shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/select.js';
import { KdnetError } from '../../../src/errors.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Net } from '../../../src/net/net.js';
import { Phase, filterNet } from '../../../src/net/net-state.js';
import { readNpy } from '../../../src/util/npy.js';
import type { Layer } from '../../../src/layers/layer.js';
import { checkGradient, makeLayer } from '../../support/gradient-check.js';
import { fixturesRoot, hasFixtures } from '../../support/shared.js';

const rand = (n: number, lo: number, hi: number, seed = 1): Float32Array => {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 4294967296);
  });
};
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs the checker and asserts it compared something and found no mismatch. */
function expectGradientOk(layerText: string, opts: Parameters<typeof checkGradient>[1], phase = Phase.TRAIN): void {
  const layer = makeLayer(layerText, phase);
  const r = checkGradient(layer, opts);
  expect(r.failures).toEqual([]);
  expect(r.checked).toBeGreaterThan(0);
  layer.dispose();
}

/** setup + forward + backward of a lone layer with given values; returns plain arrays. */
function runLayer(layerText: string, inputs: Array<{ shape: number[]; values: number[] | Float32Array }>, topDiff?: number[], phase = Phase.TRAIN) {
  const layer = makeLayer(layerText, phase);
  layer.setup(inputs.map((i) => i.shape));
  const bottoms = inputs.map((i) => tf.tensor(Float32Array.from(i.values), i.shape));
  const tops = layer.forward(bottoms);
  const y = Array.from(tops[0]!.dataSync());
  let dx: number[][] | undefined;
  let dp: Array<number[] | undefined> | undefined;
  if (topDiff) {
    const d = tf.tensor(Float32Array.from(topDiff), tops[0]!.shape);
    const r = layer.backward(bottoms, tops, [d], inputs.map(() => true));
    dx = r.bottomDiffs.map((t) => (t ? Array.from(t.dataSync()) : []));
    dp = r.paramDiffs.map((t) => (t ? Array.from(t.dataSync()) : undefined));
    tf.dispose([d, ...r.bottomDiffs.filter((t): t is tf.Tensor => !!t), ...r.paramDiffs.filter((t): t is tf.Tensor => !!t)]);
  }
  const blobs = layer.blobs.map((b) => ({ shape: b.shape, values: Array.from(b.dataSync()) }));
  tf.dispose([...bottoms, ...tops]);
  layer.dispose();
  return { y, dx, dp, blobs };
}

const closeTo = (actual: number[] | undefined, expected: number[], tol = 1e-5) => {
  expect(actual).toBeDefined();
  expect(actual!.length).toBe(expected.length);
  actual!.forEach((a, i) => {
    const e = expected[i]!;
    if (Number.isNaN(e)) expect(a).toBeNaN();
    else expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  });
};

function buildNet(text: string, phase = Phase.TRAIN, seed = 3): Net {
  return new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase, seed });
}

const input = (name: string, dims: number[]) =>
  `layer { name: "in_${name}" type: "Input" top: "${name}" input_param { shape { ${dims.map((d) => `dim: ${d}`).join(' ')} } } }`;

function expectKdnetError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a KdnetError').toBeInstanceOf(KdnetError);
  expect((caught as Error).message).toMatch(pattern);
}

const SHAPE = [2, 3, 4, 5];
const N = count(SHAPE);

export function neuronSuite(backend: 'cpu' | 'wasm'): void {
  describe(`neuron layers on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });

    describe('gradient checks', () => {
      const normal = { bottoms: [{ shape: SHAPE }] };
      it('ReLU and leaky ReLU (kink at 0), also in place', () => {
        expectGradientOk('name: "r" type: "ReLU" bottom: "x" top: "y"', { ...normal, kink: 0 });
        expectGradientOk('name: "r" type: "ReLU" bottom: "x" top: "y" relu_param { negative_slope: 0.1 }', { ...normal, kink: 0 });
        expectGradientOk('name: "r" type: "ReLU" bottom: "x" top: "x" relu_param { negative_slope: 0.3 }', { ...normal, kink: 0 });
      });
      it('PReLU per channel and shared, bottom and slope diffs', () => {
        const filler = 'filler { type: "uniform" min: -0.5 max: 0.5 }';
        expectGradientOk(`name: "p" type: "PReLU" bottom: "x" top: "y" prelu_param { ${filler} }`, { ...normal, kink: 0 });
        expectGradientOk(`name: "p" type: "PReLU" bottom: "x" top: "y" prelu_param { channel_shared: true ${filler} }`, { ...normal, kink: 0 });
        expectGradientOk(`name: "p" type: "PReLU" bottom: "x" top: "x" prelu_param { ${filler} }`, { ...normal, kink: 0 });
        expectGradientOk(`name: "p" type: "PReLU" bottom: "x" top: "y"`, { bottoms: [{ shape: [4, 6] }], kink: 0 });
      });
      it('ELU', () => {
        expectGradientOk('name: "e" type: "ELU" bottom: "x" top: "y" elu_param { alpha: 0.7 }', { ...normal, kink: 0 });
        expectGradientOk('name: "e" type: "ELU" bottom: "x" top: "x"', { ...normal, kink: 0 });
      });
      it('Sigmoid, TanH, Swish, BNLL', () => {
        expectGradientOk('name: "s" type: "Sigmoid" bottom: "x" top: "y"', normal);
        expectGradientOk('name: "s" type: "Sigmoid" bottom: "x" top: "x"', normal);
        expectGradientOk('name: "t" type: "TanH" bottom: "x" top: "y"', normal);
        expectGradientOk('name: "t" type: "TanH" bottom: "x" top: "x"', normal);
        expectGradientOk('name: "w" type: "Swish" bottom: "x" top: "y" swish_param { beta: 1.5 }', normal);
        expectGradientOk('name: "w" type: "Swish" bottom: "x" top: "x"', normal);
        expectGradientOk('name: "b" type: "BNLL" bottom: "x" top: "y"', { bottoms: [{ shape: SHAPE, values: rand(N, -4, 4, 3) }] });
      });
      it('AbsVal (kink at 0)', () => {
        expectGradientOk('name: "a" type: "AbsVal" bottom: "x" top: "y"', { ...normal, kink: 0 });
      });
      it('Power in its gradient branches', () => {
        const pos = { bottoms: [{ shape: SHAPE, values: rand(N, 0.5, 2, 5) }] };
        for (const p of ['power: 2 scale: 0.5 shift: 1', 'power: 2', 'power: 0.5', 'power: 3 scale: -1.5', 'power: 1 scale: -2 shift: 0.3', 'power: 1.5 scale: 0.8 shift: 0.4', 'power: -1 scale: 2 shift: 1']) {
          expectGradientOk(`name: "p" type: "Power" bottom: "x" top: "y" power_param { ${p} }`, pos);
        }
      });
      it('Exp and Log', () => {
        const small = { bottoms: [{ shape: SHAPE, values: rand(N, -1.5, 1.5, 7) }] };
        expectGradientOk('name: "e" type: "Exp" bottom: "x" top: "y"', small);
        expectGradientOk('name: "e" type: "Exp" bottom: "x" top: "y" exp_param { base: 2 scale: 0.5 shift: 0.1 }', small);
        expectGradientOk('name: "e" type: "Exp" bottom: "x" top: "x" exp_param { scale: -1 shift: 2 }', small);
        const pos = { bottoms: [{ shape: SHAPE, values: rand(N, 0.5, 3, 9) }] };
        expectGradientOk('name: "l" type: "Log" bottom: "x" top: "y"', pos);
        expectGradientOk('name: "l" type: "Log" bottom: "x" top: "y" log_param { base: 10 scale: 2 shift: 1 }', pos);
        expectGradientOk('name: "l" type: "Log" bottom: "x" top: "y" log_param { base: 2 scale: 0.5 }', pos);
      });
      it('Clip (values away from both kinks)', () => {
        const v = rand(N, -1.5, 1.5, 11).map((x) => (Math.abs(x + 0.5) < 0.05 || Math.abs(x - 0.7) < 0.05 ? x + 0.2 : x));
        expectGradientOk('name: "c" type: "Clip" bottom: "x" top: "y" clip_param { min: -0.5 max: 0.7 }', { bottoms: [{ shape: SHAPE, values: v }] });
      });
      it('Dropout at TEST (identity)', () => {
        expectGradientOk('name: "d" type: "Dropout" bottom: "x" top: "y"', normal, Phase.TEST);
      });
      it('Scale: learned scale + bias, scale as second bottom, num_axes -1 / 0, negative axis', () => {
        const f = 'filler { type: "uniform" min: -1 max: 1 } bias_filler { type: "uniform" min: -1 max: 1 }';
        expectGradientOk(`name: "s" type: "Scale" bottom: "x" top: "y" scale_param { bias_term: true ${f} }`, normal);
        expectGradientOk(`name: "s" type: "Scale" bottom: "x" top: "x" scale_param { bias_term: true ${f} }`, normal);
        expectGradientOk(`name: "s" type: "Scale" bottom: "x" top: "y" scale_param { axis: 1 num_axes: -1 ${f} }`, normal);
        expectGradientOk(`name: "s" type: "Scale" bottom: "x" top: "y" scale_param { num_axes: 0 bias_term: true ${f} }`, normal);
        expectGradientOk(`name: "s" type: "Scale" bottom: "x" top: "y" scale_param { axis: -2 num_axes: 2 ${f} }`, normal);
        expectGradientOk('name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y" scale_param { axis: 0 }', { bottoms: [{ shape: SHAPE }, { shape: [2, 3] }] });
        expectGradientOk(`name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y" scale_param { bias_term: true ${f} }`, {
          bottoms: [{ shape: SHAPE }, { shape: [3, 4] }],
        });
        expectGradientOk('name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y"', { bottoms: [{ shape: SHAPE }, { shape: [] }] });
      });
      it('Bias: learned, second bottom, scalar', () => {
        const f = 'filler { type: "uniform" min: -1 max: 1 }';
        expectGradientOk(`name: "b" type: "Bias" bottom: "x" top: "y" bias_param { ${f} }`, normal);
        expectGradientOk(`name: "b" type: "Bias" bottom: "x" top: "y" bias_param { axis: 2 num_axes: -1 ${f} }`, normal);
        expectGradientOk(`name: "b" type: "Bias" bottom: "x" top: "y" bias_param { num_axes: 0 ${f} }`, normal);
        expectGradientOk('name: "b" type: "Bias" bottom: "x" bottom: "b" top: "y" bias_param { axis: 0 }', { bottoms: [{ shape: SHAPE }, { shape: [2, 3] }] });
      });
    });

    describe('forward values and Caffe special cases', () => {
      it('ReLU / ELU / Sigmoid / TanH / AbsVal / BNLL values', () => {
        const x = [-3, -0.5, 0, 0.25, 2, 60];
        const sh = [1, 6];
        closeTo(runLayer('name: "r" type: "ReLU" bottom: "x" top: "y" relu_param { negative_slope: 0.2 }', [{ shape: sh, values: x }]).y, [-0.6, -0.1, 0, 0.25, 2, 60]);
        closeTo(runLayer('name: "e" type: "ELU" bottom: "x" top: "y" elu_param { alpha: 0.5 }', [{ shape: sh, values: x }]).y, x.map((v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1))));
        closeTo(runLayer('name: "s" type: "Sigmoid" bottom: "x" top: "y"', [{ shape: sh, values: x }]).y, x.map((v) => 1 / (1 + Math.exp(-v))));
        closeTo(runLayer('name: "t" type: "TanH" bottom: "x" top: "y"', [{ shape: sh, values: x }]).y, x.map(Math.tanh));
        closeTo(runLayer('name: "a" type: "AbsVal" bottom: "x" top: "y"', [{ shape: sh, values: x }], [1, 1, 1, 1, 1, 1]).dx![0], [-1, -1, 0, 1, 1, 1]);
        const bnll = runLayer('name: "b" type: "BNLL" bottom: "x" top: "y"', [{ shape: [1, 3], values: [-100, 100, 1000] }], [1, 1, 1]);
        // Stable forward (no overflow to inf) and the backward's exp capped at 50 (no inf / inf = NaN).
        closeTo(bnll.y, [0, 100, 1000]);
        closeTo(bnll.dx![0], [0, 1, 1]);
      });

      it('ReLU gradient at exactly 0 is negative_slope (Caffe: x <= 0 takes the slope)', () => {
        const r = runLayer('name: "r" type: "ReLU" bottom: "x" top: "y" relu_param { negative_slope: 0.25 }', [{ shape: [1, 3], values: [-1, 0, 1] }], [2, 2, 2]);
        closeTo(r.dx![0], [0.5, 0.5, 2]);
      });

      it('Threshold outputs 1 strictly above the threshold', () => {
        const r = runLayer('name: "t" type: "Threshold" bottom: "x" top: "y" threshold_param { threshold: 0.2 }', [{ shape: [1, 4], values: [0.1, 0.2, 0.21, -5] }]);
        expect(r.y).toEqual([0, 0, 1, 0]);
      });

      it('Power special cases of Caffe', () => {
        const sh = [1, 4];
        // power * scale == 0: constant output shift^power (1 for power 0), zero gradient even for inf top diffs.
        let r = runLayer('name: "p" type: "Power" bottom: "x" top: "y" power_param { power: 2 scale: 0 shift: 3 }', [{ shape: sh, values: [1, 2, -3, 0] }], [1, Infinity, 1, 1]);
        expect(r.y).toEqual([9, 9, 9, 9]);
        expect(r.dx![0]).toEqual([0, 0, 0, 0]);
        r = runLayer('name: "p" type: "Power" bottom: "x" top: "y" power_param { power: 0 shift: 0 }', [{ shape: sh, values: [1, 2, -3, 0] }], [1, 1, 1, 1]);
        expect(r.y).toEqual([1, 1, 1, 1]);
        expect(r.dx![0]).toEqual([0, 0, 0, 0]);
        // power 1: gradient is the constant scale.
        r = runLayer('name: "p" type: "Power" bottom: "x" top: "y" power_param { scale: -2 shift: 0.5 }', [{ shape: sh, values: [1, 2, -3, 0] }], [1, 2, 3, 4]);
        closeTo(r.y, [-1.5, -3.5, 6.5, 0.5]);
        closeTo(r.dx![0], [-2, -4, -6, -8]);
        // shift 0: power * y / x, which is NaN at x == 0 exactly as in Caffe.
        r = runLayer('name: "p" type: "Power" bottom: "x" top: "y" power_param { power: 0.5 }', [{ shape: sh, values: [4, 1, 0, 9] }], [1, 1, 1, 1]);
        closeTo(r.y, [2, 1, 0, 3]);
        closeTo(r.dx![0], [0.25, 0.5, NaN, 1 / 6]);
        // power 2 uses 2 * scale * (shift + scale x): finite at x == 0.
        r = runLayer('name: "p" type: "Power" bottom: "x" top: "y" power_param { power: 2 scale: 3 }', [{ shape: sh, values: [0, 1, -1, 2] }], [1, 1, 1, 1]);
        closeTo(r.y, [0, 9, 9, 36]);
        closeTo(r.dx![0], [0, 18, -18, 36]);
        // negative base with integer power.
        r = runLayer('name: "p" type: "Power" bottom: "x" top: "y" power_param { power: 3 }', [{ shape: sh, values: [-2, -1, 0.5, 2] }]);
        closeTo(r.y, [-8, -1, 0.125, 8]);
      });

      it('Exp / Log with bases', () => {
        const x = [-1, 0, 0.5, 2];
        closeTo(runLayer('name: "e" type: "Exp" bottom: "x" top: "y" exp_param { base: 2 scale: 0.5 shift: 0.1 }', [{ shape: [1, 4], values: x }]).y, x.map((v) => 2 ** (0.1 + 0.5 * v)));
        const r = runLayer('name: "l" type: "Log" bottom: "x" top: "y" log_param { base: 10 scale: 2 shift: 1 }', [{ shape: [1, 4], values: [0, 0.5, 4.5, 49.5] }], [1, 1, 1, 1]);
        closeTo(r.y, [0, Math.log10(2), 1, 2]);
        closeTo(r.dx![0], [0, 0.5, 4.5, 49.5].map((v) => 2 / ((1 + 2 * v) * Math.LN10)));
      });

      it('Clip passes the gradient on both ends inclusive and accepts min > max like Caffe', () => {
        const r = runLayer('name: "c" type: "Clip" bottom: "x" top: "y" clip_param { min: -0.5 max: 0.5 }', [{ shape: [1, 5], values: [-1, -0.5, 0, 0.5, 1] }], [1, 2, 3, 4, 5]);
        closeTo(r.y, [-0.5, -0.5, 0, 0.5, 0.5]);
        closeTo(r.dx![0], [0, 2, 3, 4, 0]);
        const inverted = runLayer('name: "c" type: "Clip" bottom: "x" top: "y" clip_param { min: 1 max: -1 }', [{ shape: [1, 3], values: [-2, 0, 2] }], [1, 1, 1]);
        closeTo(inverted.y, [1, 1, 1]);
        closeTo(inverted.dx![0], [0, 0, 0]);
      });

      it('default fillers and parameter shapes: PReLU 0.25 [C] / [], Scale 1 (+ bias 0), Bias 0', () => {
        let r = runLayer('name: "p" type: "PReLU" bottom: "x" top: "y"', [{ shape: [2, 3, 2], values: rand(12, -1, 1) }]);
        expect(r.blobs).toEqual([{ shape: [3], values: [0.25, 0.25, 0.25] }]);
        r = runLayer('name: "p" type: "PReLU" bottom: "x" top: "y" prelu_param { channel_shared: true }', [{ shape: [2, 3], values: rand(6, -1, 1) }]);
        expect(r.blobs).toEqual([{ shape: [], values: [0.25] }]);
        r = runLayer('name: "s" type: "Scale" bottom: "x" top: "y" scale_param { bias_term: true }', [{ shape: SHAPE, values: rand(N, -1, 1) }]);
        expect(r.blobs).toEqual([
          { shape: [3], values: [1, 1, 1] },
          { shape: [3], values: [0, 0, 0] },
        ]);
        r = runLayer('name: "s" type: "Scale" bottom: "x" top: "y" scale_param { axis: 2 num_axes: -1 }', [{ shape: SHAPE, values: rand(N, -1, 1) }]);
        expect(r.blobs[0]!.shape).toEqual([4, 5]);
        r = runLayer('name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y" scale_param { axis: 1 bias_term: true }', [
          { shape: SHAPE, values: rand(N, -1, 1) },
          { shape: [3, 4], values: rand(12, -1, 1) },
        ]);
        // Two bottoms: the only blob is the bias, spanning the second bottom's axes.
        expect(r.blobs.map((b) => b.shape)).toEqual([[3, 4]]);
        r = runLayer('name: "b" type: "Bias" bottom: "x" top: "y" bias_param { num_axes: 0 }', [{ shape: SHAPE, values: rand(N, -1, 1) }]);
        expect(r.blobs).toEqual([{ shape: [], values: [0] }]);
      });

      it('Scale and Bias values against a direct computation', () => {
        const x = rand(24, -1, 1, 4);
        const s = [2, -1, 0.5];
        const r = runLayer('name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y"', [
          { shape: [2, 3, 4], values: x },
          { shape: [3], values: s },
        ], Array.from({ length: 24 }, () => 1));
        closeTo(r.y, Array.from(x, (v, i) => v * s[Math.floor(i / 4) % 3]!));
        // ds = Σ dy * x over n and inner positions.
        closeTo(r.dx![1], s.map((_, c) => [0, 1].reduce((acc, n) => acc + [0, 1, 2, 3].reduce((a, k) => a + x[n * 12 + c * 4 + k]!, 0), 0)));
        const b = runLayer('name: "b" type: "Bias" bottom: "x" bottom: "b" top: "y" bias_param { axis: -1 }', [
          { shape: [2, 3, 4], values: x },
          { shape: [4], values: [1, 2, 3, 4] },
        ], Array.from({ length: 24 }, (_, i) => i));
        closeTo(b.y, Array.from(x, (v, i) => v + [1, 2, 3, 4][i % 4]!));
        closeTo(b.dx![1], [0, 1, 2, 3].map((k) => Array.from({ length: 6 }, (_, j) => j * 4 + k).reduce((a, c) => a + c, 0)));
      });
    });

    describe('in-place use reproduces what Caffe reads from the overwritten bottom', () => {
      it('Clip in place passes every gradient (the bottom already holds clipped values)', () => {
        const r = runLayer('name: "c" type: "Clip" bottom: "x" top: "x" clip_param { min: -0.5 max: 0.5 }', [{ shape: [1, 3], values: [-1, 0, 1] }], [1, 2, 3]);
        closeTo(r.dx![0], [1, 2, 3]);
      });
      it('ReLU in place equals ReLU out of place for slope >= 0', () => {
        const x = rand(40, -2, 2, 13);
        const d = Array.from(rand(40, -1, 1, 17));
        const a = runLayer('name: "r" type: "ReLU" bottom: "x" top: "x" relu_param { negative_slope: 0.1 }', [{ shape: [4, 10], values: x }], d);
        const b = runLayer('name: "r" type: "ReLU" bottom: "x" top: "y" relu_param { negative_slope: 0.1 }', [{ shape: [4, 10], values: x }], d);
        closeTo(a.dx![0], b.dx![0]);
      });
      it('Power in place with shift 0 uses y / y (Caffe reads the top as the bottom)', () => {
        const r = runLayer('name: "p" type: "Power" bottom: "x" top: "x" power_param { power: 3 }', [{ shape: [1, 2], values: [2, 3] }], [1, 1]);
        closeTo(r.y, [8, 27]);
        closeTo(r.dx![0], [3, 3]);
      });
      it('PReLU, Swish, Sigmoid and Exp keep exact gradients in place', () => {
        const x = rand(12, -2, 2, 19);
        const d = Array.from(rand(12, -1, 1, 23));
        for (const body of ['type: "PReLU"', 'type: "Swish"', 'type: "Sigmoid"', 'type: "Exp"', 'type: "TanH"', 'type: "Dropout"']) {
          const inPlace = runLayer(`name: "l" ${body} bottom: "x" top: "x"`, [{ shape: [2, 6], values: x }], d, Phase.TEST);
          const apart = runLayer(`name: "l" ${body} bottom: "x" top: "y"`, [{ shape: [2, 6], values: x }], d, Phase.TEST);
          closeTo(inPlace.y, apart.y);
          closeTo(inPlace.dx![0], apart.dx![0]);
        }
      });
      it('an in-place chain in a net routes the diff to the original blob', () => {
        const net = buildNet(`force_backward: true
${input('x', [2, 3, 2])}
layer { name: "sc" type: "Scale" bottom: "x" top: "y" scale_param { filler { type: "constant" value: 2 } bias_term: true bias_filler { type: "constant" value: -1 } } }
layer { name: "relu" type: "ReLU" bottom: "y" top: "y" }
layer { name: "drop" type: "Dropout" bottom: "y" top: "y" }`, Phase.TEST);
        const x = Array.from(rand(12, -1, 1, 29));
        net.setInput('x', tf.tensor(x, [2, 3, 2]));
        net.forward();
        closeTo(Array.from(net.blob('y').dataSync()), x.map((v) => Math.max(2 * v - 1, 0)));
        net.setTopDiff('y', tf.ones([2, 3, 2]));
        net.clearParamDiffs();
        net.backward();
        closeTo(Array.from(net.blobDiff('x')!.dataSync()), x.map((v) => (2 * v - 1 > 0 ? 2 : 0)));
        const active = x.filter((v) => 2 * v - 1 > 0);
        closeTo(Array.from(net.paramDiff('sc', 1)!.dataSync()), [0, 1, 2].map((c) => x.filter((v, i) => Math.floor(i / 2) % 3 === c && 2 * v - 1 > 0).length));
        expect(active.length).toBeGreaterThan(0);
        net.dispose();
      });
    });

    describe('Threshold has no backward, like Caffe', () => {
      it('the layer refuses a backward with a clear error', () => {
        const layer = makeLayer('name: "t" type: "Threshold" bottom: "x" top: "y"');
        layer.setup([[2, 2]]);
        const x = tf.ones([2, 2]);
        const [y] = layer.forward([x]);
        const ones = tf.onesLike(y!);
        expectKdnetError(() => layer.backward([x], [y!], [ones], [true]), /no backward pass.*Not Implemented Yet/);
        tf.dispose([x, y!, ones]);
      });
      it('a force_backward net with a Threshold fails on backward (Caffe aborts there); forward still works', () => {
        const net = buildNet(`force_backward: true
${input('x', [1, 3])}
layer { name: "t" type: "Threshold" bottom: "x" top: "y" }`);
        net.setInput('x', tf.tensor([[-1, 0, 1]]));
        net.forward();
        expect(Array.from(net.blob('y').dataSync())).toEqual([0, 0, 1]);
        net.setTopDiff('y', tf.ones([1, 3]));
        expectKdnetError(() => net.backward(), /Threshold has no backward/);
        net.dispose();
      });
      it('without force_backward and nothing learnable below, backward never reaches it', () => {
        const net = buildNet(`${input('x', [1, 3])}
layer { name: "t" type: "Threshold" bottom: "x" top: "y" }
layer { name: "s" type: "Sigmoid" bottom: "y" top: "z" }`);
        net.setInput('x', tf.tensor([[-1, 0, 1]]));
        net.forward();
        net.setTopDiff('z', tf.ones([1, 3]));
        expect(() => net.backward()).not.toThrow();
        net.dispose();
      });
    });

    describe('Dropout', () => {
      const ratio = 0.3;
      const scale = Math.fround(1 / (1 - Math.fround(ratio)));

      it('TRAIN: inverted dropout with one mask per forward, used by the backward', () => {
        const shape = [8, 50];
        const x = rand(400, 0.5, 2, 31);
        const d = Array.from(rand(400, -1, 1, 37));
        const r = runLayer(`name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: ${ratio} }`, [{ shape, values: x }], d);
        const factors = r.y.map((v, i) => v / x[i]!);
        for (const f of factors) expect(f === 0 || Math.abs(f - scale) < 1e-6).toBe(true);
        const kept = factors.filter((f) => f !== 0).length / factors.length;
        expect(kept).toBeGreaterThan(0.6);
        expect(kept).toBeLessThan(0.8);
        closeTo(r.dx![0], d.map((v, i) => v * factors[i]!));
      });

      it('TRAIN: successive forwards draw new masks and release the old ones', () => {
        const layer = makeLayer('name: "d" type: "Dropout" bottom: "x" top: "y"');
        layer.setup([[1, 200]]);
        const x = tf.ones([1, 200]);
        const [y1] = layer.forward([x]);
        const before = tf.memory().numTensors;
        const [y2] = layer.forward([x]);
        // One new top; the new mask replaced the old one.
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(Array.from(y1!.dataSync())).not.toEqual(Array.from(y2!.dataSync()));
        // The backward uses the latest mask.
        const ones = tf.onesLike(y2!);
        const r = layer.backward([x], [y2!], [ones], [true]);
        expect(Array.from(r.bottomDiffs[0]!.dataSync())).toEqual(Array.from(y2!.dataSync()));
        tf.dispose([x, y1!, y2!, ones, r.bottomDiffs[0]!]);
        const n = tf.memory().numTensors;
        layer.dispose();
        expect(tf.memory().numTensors).toBe(n - 1);
      });

      it('TRAIN with ratio 0 is the identity; TEST ignores the ratio', () => {
        const x = Array.from(rand(20, -1, 1, 41));
        closeTo(runLayer('name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 0 }', [{ shape: [4, 5], values: x }]).y, x);
        closeTo(runLayer('name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 0.9 }', [{ shape: [4, 5], values: x }], x, Phase.TEST).dx![0], x);
      });

      it('the mask is reproducible from the net seed', () => {
        const text = `${input('x', [4, 25])}\nlayer { name: "d" type: "Dropout" bottom: "x" top: "y" }`;
        const run = (seed: number) => {
          const net = buildNet(text, Phase.TRAIN, seed);
          net.setInput('x', tf.ones([4, 25]));
          net.forward();
          const y = Array.from(net.blob('y').dataSync());
          net.dispose();
          return y;
        };
        expect(run(11)).toEqual(run(11));
        expect(run(11)).not.toEqual(run(12));
      });

      it.skipIf(!hasFixtures)('dropout_train fixture: Caffe and kdnet both give y/x in {0, 1/(1-0.3)} and dx = dy * the same factor', () => {
        const dir = path.join(fixturesRoot, 'layers', 'dropout_train');
        const x = readNpy(path.join(dir, 'in.x.npy'));
        const cy = readNpy(path.join(dir, 'out.y.npy'));
        const dy = readNpy(path.join(dir, 'topdiff.y.npy'));
        const cdx = readNpy(path.join(dir, 'diff.x.npy'));
        const factorOk = (f: number) => f === 0 || Math.abs(f - scale) <= 1e-5 * scale;
        // Caffe's own numbers have the structure (and its scale is kdnet's scale).
        for (let i = 0; i < x.data.length; i++) {
          const f = cy.data[i]! / x.data[i]!;
          expect(factorOk(f), `Caffe factor ${f} at ${i}`).toBe(true);
          expect(Math.abs(cdx.data[i]! - dy.data[i]! * f)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(cdx.data[i]!)));
        }
        // kdnet on the same net and data.
        const { message } = parseCaffeText(fs.readFileSync(path.join(dir, 'net.prototxt'), 'utf8'), 'NetParameter');
        const net = new Net(filterNet(message, { phase: Phase.TRAIN, level: 0, stage: [] }), { phase: Phase.TRAIN, seed: 99 });
        net.setInput('x', tf.tensor(x.data, x.shape));
        net.forward();
        const y = net.blob('y').dataSync();
        const factors = Array.from(y, (v, i) => v / x.data[i]!);
        factors.forEach((f, i) => expect(factorOk(f), `kdnet factor ${f} at ${i}`).toBe(true));
        const kept = factors.filter((f) => f !== 0).length / factors.length;
        expect(kept).toBeGreaterThan(0.55);
        expect(kept).toBeLessThan(0.85);
        net.setTopDiff('y', tf.tensor(dy.data, dy.shape));
        net.clearParamDiffs();
        net.backward();
        const dx = net.blobDiff('x')!.dataSync();
        factors.forEach((f, i) => expect(Math.abs(dx[i]! - dy.data[i]! * f)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(dx[i]!))));
        net.dispose();
      });
    });

    describe.skipIf(!hasFixtures)('prelu_shared fixture from param.l.0.npy (its .caffemodel stores a 0-axis blob)', () => {
      it('matches Caffe forward and backward', () => {
        const dir = path.join(fixturesRoot, 'layers', 'prelu_shared');
        const npy = (f: string) => readNpy(path.join(dir, f));
        const { message } = parseCaffeText(fs.readFileSync(path.join(dir, 'net.prototxt'), 'utf8'), 'NetParameter');
        const net = new Net(filterNet(message, { phase: Phase.TRAIN, level: 0, stage: [] }), { phase: Phase.TRAIN });
        const layer: Layer = net.layer('l');
        const p = npy('param.l.0.npy');
        expect(layer.blobs[0]!.shape).toEqual(p.shape);
        layer.blobs[0]!.assign(tf.tensor(p.data, p.shape));
        const x = npy('in.x.npy');
        net.setInput('x', tf.tensor(x.data, x.shape));
        net.forward();
        closeTo(Array.from(net.blob('y').dataSync()), Array.from(npy('out.y.npy').data), 1e-5);
        const dy = npy('topdiff.y.npy');
        net.setTopDiff('y', tf.tensor(dy.data, dy.shape));
        net.clearParamDiffs();
        net.backward();
        closeTo(Array.from(net.blobDiff('x')!.dataSync()), Array.from(npy('diff.x.npy').data), 1e-4);
        const pd = net.paramDiff('l', 0)!;
        expect(pd.shape).toEqual([]);
        closeTo(Array.from(pd.dataSync()), Array.from(npy('pdiff.l.0.npy').data), 1e-4);
        net.dispose();
      });
    });

    describe('configuration errors', () => {
      const netWith = (layer: string, dims = [2, 3, 4]) => () => buildNet(`${input('x', dims)}\n${layer}`);
      it('AbsVal in place', () => {
        expectKdnetError(netWith('layer { name: "a" type: "AbsVal" bottom: "x" top: "x" }'), /AbsVal does not allow in-place/);
      });
      it('PReLU on 1-D and 5-D bottoms, slope count mismatch after reshape', () => {
        expectKdnetError(netWith('layer { name: "p" type: "PReLU" bottom: "x" top: "y" }', [6]), /at least 2 axes/);
        expectKdnetError(netWith('layer { name: "p" type: "PReLU" bottom: "x" top: "y" }', [1, 2, 3, 4, 5]), /legacy 4-D accessor/);
        const layer = makeLayer('name: "p" type: "PReLU" bottom: "x" top: "y"');
        layer.setup([[2, 3]]);
        expectKdnetError(() => layer.setup([[2, 4]]), /3 value\(s\) but the bottom has 4 channels/);
        layer.dispose();
      });
      it('Exp and Log bases', () => {
        expectKdnetError(netWith('layer { name: "e" type: "Exp" bottom: "x" top: "y" exp_param { base: 0 } }'), /base must be strictly positive/);
        expectKdnetError(netWith('layer { name: "e" type: "Exp" bottom: "x" top: "y" exp_param { base: -2 } }'), /base must be strictly positive/);
        expectKdnetError(netWith('layer { name: "l" type: "Log" bottom: "x" top: "y" log_param { base: -3 } }'), /base must be strictly positive/);
        expectKdnetError(netWith('layer { name: "l" type: "Log" bottom: "x" top: "y" log_param { base: 1 } }'), /1\/log\(base\) is not finite/);
        // Exp with base 1 is allowed (y = 1 everywhere).
        closeTo(runLayer('name: "e" type: "Exp" bottom: "x" top: "y" exp_param { base: 1 }', [{ shape: [1, 2], values: [3, -4] }]).y, [1, 1]);
      });
      it('Clip needs min and max', () => {
        expectKdnetError(netWith('layer { name: "c" type: "Clip" bottom: "x" top: "y" clip_param { min: 0 } }'), /max is a required field/);
        expectKdnetError(netWith('layer { name: "c" type: "Clip" bottom: "x" top: "y" }'), /Clip needs clip_param/);
      });
      it('Dropout ratio outside [0, 1) at TRAIN', () => {
        expectKdnetError(netWith('layer { name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 1 } }'), /dropout_ratio must be in \[0, 1\)/);
        expectKdnetError(netWith('layer { name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: -0.1 } }'), /dropout_ratio/);
      });
      it('Scale / Bias axes and shapes', () => {
        expectKdnetError(netWith('layer { name: "s" type: "Scale" bottom: "x" top: "y" scale_param { axis: 3 } }'), /axis 3 out of range for 3-D bottom/);
        expectKdnetError(netWith('layer { name: "s" type: "Scale" bottom: "x" top: "y" scale_param { axis: 2 num_axes: 2 } }'), /num_axes 2 from axis 2 extends past/);
        expectKdnetError(netWith('layer { name: "s" type: "Scale" bottom: "x" top: "y" scale_param { num_axes: -2 } }'), /num_axes must be non-negative, or -1/);
        expectKdnetError(
          () => buildNet(`${input('x', [2, 3, 4])}\n${input('s', [4])}\nlayer { name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y" }`),
          /dimension 0 is 4 but bottom axis 1 is 3/,
        );
        expectKdnetError(
          () => buildNet(`${input('x', [2, 3, 4])}\n${input('s', [3, 4, 1])}\nlayer { name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y" }`),
          /extends past the bottom's shape/,
        );
        expectKdnetError(
          () => buildNet(`${input('x', [2, 3, 4])}\n${input('b', [2])}\nlayer { name: "b" type: "Bias" bottom: "x" bottom: "b" top: "y" bias_param { axis: -1 } }`),
          /dimension 0 is 2 but bottom axis 2 is 4/,
        );
        expectKdnetError(netWith('layer { name: "b" type: "Bias" bottom: "x" top: "y" bias_param { axis: -4 } }'), /axis -4 out of range/);
        expectKdnetError(netWith('layer { name: "s" type: "Scale" bottom: "x" bottom: "x" bottom: "x" top: "y" }'), /Scale takes 1 to 2 bottom/);
        expectKdnetError(netWith('layer { name: "r" type: "ReLU" bottom: "x" top: "y" top: "z" }'), /ReLU takes 1 top/);
      });
    });

    it('layers used through a net leak no tensors', () => {
      const text = `force_backward: true
${input('x', [2, 3, 4])}
layer { name: "a" type: "ReLU" bottom: "x" top: "a" relu_param { negative_slope: 0.1 } }
layer { name: "b" type: "PReLU" bottom: "a" top: "b" }
layer { name: "c" type: "ELU" bottom: "b" top: "c" }
layer { name: "d" type: "Sigmoid" bottom: "c" top: "d" }
layer { name: "e" type: "TanH" bottom: "d" top: "d" }
layer { name: "f" type: "AbsVal" bottom: "d" top: "f" }
layer { name: "g" type: "BNLL" bottom: "f" top: "g" }
layer { name: "h" type: "Power" bottom: "g" top: "h" power_param { power: 2 shift: 1 } }
layer { name: "i" type: "Exp" bottom: "h" top: "i" exp_param { scale: -0.1 } }
layer { name: "j" type: "Log" bottom: "i" top: "j" log_param { shift: 1 } }
layer { name: "k" type: "Dropout" bottom: "j" top: "j" }
layer { name: "l" type: "Swish" bottom: "j" top: "l" }
layer { name: "m" type: "Clip" bottom: "l" top: "m" clip_param { min: -1 max: 1 } }
layer { name: "n" type: "Scale" bottom: "m" top: "n" scale_param { bias_term: true } }
layer { name: "o" type: "Bias" bottom: "n" top: "o" }`;
      const before = tf.memory().numTensors;
      const net = buildNet(text);
      const paramBlobs = net.layers().reduce((a, l) => a + l.blobs.length, 0);
      const pass = (k: number) => {
        net.setInput('x', tf.tensor(rand(24, -2, 2, k + 1), [2, 3, 4]));
        net.forward();
        net.setTopDiff('o', tf.ones([2, 3, 4]));
        net.clearParamDiffs();
        net.backward();
        return tf.memory().numTensors;
      };
      const steady = pass(0);
      expect(pass(1)).toBe(steady);
      expect(pass(2)).toBe(steady);
      expect(Array.from(net.blobDiff('x')!.dataSync()).every(Number.isFinite)).toBe(true);
      net.dispose();
      // Net.dispose does not call Layer.dispose, so the Dropout mask stays: dispose the layer too.
      net.layer('k').dispose();
      // At most one tensor per parameter blob may remain: fillers.ts's fillTensor keeps its initial tensor
      // besides the variable (reported to the lead); none of the neuron layers' own tensors remain.
      expect(tf.memory().numTensors - before).toBeLessThanOrEqual(paramBlobs);
      expect(tf.memory().numTensors - before).toBeGreaterThanOrEqual(0);
    });
  });
}
