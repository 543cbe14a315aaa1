// The vision layers on one backend (each backend runs in its own test file, so the global tfjs backend never
// switches mid-file): finite-difference gradient checks of every layer with a backward, forward results
// against loop implementations of Caffe's semantics on configurations the golden fixtures do not cover,
// Caffe's first-maximum gradient routing on tied maxima, STOCHASTIC pooling, and tensor hygiene.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradient, makeLayer, type GradientCheckOptions } from '../../support/gradient-check.js';
import { initBackend } from '../../../src/backend/select.js';
import { Phase } from '../../../src/net/net-state.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Net } from '../../../src/net/net.js';
import { Rng } from '../../../src/util/rng.js';
import type { Layer } from '../../../src/layers/layer.js';
import * as ref from './reference.js';

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Distinct values at least 0.05 apart (a shuffled ramp), so max pooling has no near-ties for the checker. */
function distinct(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const n = count(shape);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
}

function normal(shape: number[], seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count(shape) }, () => rng.normal() * scale);
}

/** makeLayer in any phase (its `phase` parameter is typed as the TRAIN literal). */
const layerAt = (text: string, phase: number = Phase.TRAIN): Layer => (makeLayer as (t: string, p: number) => Layer)(text, phase);

const FILLERS = 'weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" min: -0.5 max: 0.5 }';

interface GradCase {
  name: string;
  layer: string;
  phase?: number;
  opts: GradientCheckOptions;
}

const GRADIENT_CASES: GradCase[] = [
  { name: 'Convolution 3x3 pad 1, bias', layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 3 pad: 1 ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 2, 5, 4] }] } },
  {
    name: 'Convolution kernel 3x2, stride 2x1, pad 1x0',
    layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 ${FILLERS} }`,
    opts: { bottoms: [{ shape: [2, 3, 6, 5] }] },
  },
  { name: 'Convolution group 2', layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 4 kernel_size: 3 pad: 1 group: 2 ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 4, 5, 5] }] } },
  {
    name: 'Convolution depthwise with channel multiplier 2, stride 2',
    layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 6 kernel_size: 3 pad: 1 stride: 2 group: 3 ${FILLERS} }`,
    opts: { bottoms: [{ shape: [2, 3, 6, 5] }] },
  },
  { name: 'Convolution dilation 2', layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 3 dilation: 2 pad: 2 ${FILLERS} }`, opts: { bottoms: [{ shape: [1, 2, 7, 6] }] } },
  {
    name: 'Convolution dilation 2 with stride 2 and groups',
    layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 4 kernel_size: 3 dilation: 2 stride: 2 pad: 1 group: 2 ${FILLERS} }`,
    opts: { bottoms: [{ shape: [1, 4, 9, 8] }] },
  },
  { name: 'Convolution 1x1, no bias', layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 1 bias_term: false ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 4, 3, 3] }] } },
  { name: 'Convolution 1-D (3-D bottom)', layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 2, 9] }] } },
  {
    name: 'Convolution with two bottom/top pairs sharing weights',
    layer: `name: "c" type: "Convolution" bottom: "a" bottom: "b" top: "ya" top: "yb" convolution_param { num_output: 2 kernel_size: 3 ${FILLERS} }`,
    opts: { bottoms: [{ shape: [1, 2, 5, 5] }, { shape: [1, 2, 5, 5] }] },
  },
  { name: 'Convolution axis 2 (two leading axes)', layer: `name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 2 axis: 2 ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 2, 3, 4, 4] }] } },
  { name: 'Deconvolution 4x4 stride 2, no bias', layer: `name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 4 stride: 2 bias_term: false ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 3, 3, 4] }] } },
  { name: 'Deconvolution 3x3 stride 2 pad 1, bias', layer: `name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 2, 4, 3] }] } },
  { name: 'Deconvolution group 2, dilation 2', layer: `name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 4 kernel_size: 3 dilation: 2 group: 2 ${FILLERS} }`, opts: { bottoms: [{ shape: [1, 4, 3, 3] }] } },
  { name: 'Deconvolution depthwise (group == channels == num_output), stride 2', layer: `name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 2 stride: 2 group: 3 ${FILLERS} }`, opts: { bottoms: [{ shape: [2, 3, 3, 3] }] } },
  { name: 'Pooling MAX 3x3 stride 2 (ceil)', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 }', opts: { bottoms: [{ shape: [2, 2, 7, 6], values: distinct([2, 2, 7, 6], 1) }] } },
  { name: 'Pooling MAX 3x3 stride 2 pad 1', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }', opts: { bottoms: [{ shape: [2, 2, 7, 6], values: distinct([2, 2, 7, 6], 2) }] } },
  { name: 'Pooling MAX 2x2 stride 1', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 2 stride: 1 }', opts: { bottoms: [{ shape: [1, 2, 5, 5], values: distinct([1, 2, 5, 5], 3) }] } },
  { name: 'Pooling MAX with mask top', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" top: "m" pooling_param { pool: MAX kernel_size: 2 stride: 2 }', opts: { bottoms: [{ shape: [1, 3, 5, 4], values: distinct([1, 3, 5, 4], 4) }] } },
  { name: 'Pooling global MAX', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX global_pooling: true }', opts: { bottoms: [{ shape: [2, 3, 4, 5], values: distinct([2, 3, 4, 5], 5) }] } },
  { name: 'Pooling AVE 3x3 stride 2 pad 1', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }', opts: { bottoms: [{ shape: [2, 2, 7, 6] }] } },
  { name: 'Pooling AVE 3x2 stride 2x1 pad 1x0', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 }', opts: { bottoms: [{ shape: [1, 2, 7, 6] }] } },
  { name: 'Pooling AVE 2x2 stride 2 FLOOR', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 2 stride: 2 round_mode: FLOOR }', opts: { bottoms: [{ shape: [1, 2, 7, 5] }] } },
  { name: 'Pooling global AVE', layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE global_pooling: true }', opts: { bottoms: [{ shape: [2, 3, 4, 5] }] } },
  {
    name: 'Pooling STOCHASTIC at TEST',
    layer: 'name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 3 stride: 2 }',
    phase: Phase.TEST,
    opts: { bottoms: [{ shape: [1, 2, 7, 6], values: Float32Array.from(normal([1, 2, 7, 6], 6), (v) => 0.5 + Math.abs(v)) }] },
  },
  { name: 'LRN ACROSS_CHANNELS size 5 alpha 0.5 beta 0.75 k 2', layer: 'name: "l" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 }', opts: { bottoms: [{ shape: [2, 7, 3, 3] }] } },
  { name: 'LRN ACROSS_CHANNELS defaults', layer: 'name: "l" type: "LRN" bottom: "x" top: "y"', opts: { bottoms: [{ shape: [1, 6, 3, 2] }] } },
  { name: 'LRN WITHIN_CHANNEL size 3', layer: 'name: "l" type: "LRN" bottom: "x" top: "y" lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.3 beta: 0.75 }', opts: { bottoms: [{ shape: [2, 2, 5, 4] }] } },
  { name: 'SPP MAX pyramid 3', layer: 'name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 3 pool: MAX }', opts: { bottoms: [{ shape: [2, 2, 9, 7], values: distinct([2, 2, 9, 7], 7) }] } },
  { name: 'SPP AVE pyramid 2', layer: 'name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 2 pool: AVE }', opts: { bottoms: [{ shape: [1, 3, 5, 6] }] } },
  { name: 'SPP AVE pyramid 1', layer: 'name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 1 pool: AVE }', opts: { bottoms: [{ shape: [2, 2, 4, 3] }] } },
  { name: 'Im2col 3x3 pad 1 stride 2', layer: 'name: "i" type: "Im2col" bottom: "x" top: "y" convolution_param { kernel_size: 3 pad: 1 stride: 2 }', opts: { bottoms: [{ shape: [2, 2, 5, 4] }] } },
  { name: 'Im2col 2x2 dilation 2', layer: 'name: "i" type: "Im2col" bottom: "x" top: "y" convolution_param { kernel_size: 2 dilation: 2 }', opts: { bottoms: [{ shape: [1, 2, 5, 5] }] } },
  {
    name: 'Crop axis 1 offsets 1, 2, 0',
    layer: 'name: "k" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { axis: 1 offset: 1 offset: 2 offset: 0 }',
    opts: { bottoms: [{ shape: [2, 4, 5, 3] }, { shape: [2, 2, 3, 3], check: false }] },
  },
];

const values = (t: tf.Tensor) => Array.from(t.dataSync());

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    const d = Number.isNaN(e) && Number.isNaN(a) ? 0 : Math.abs(a - e) / Math.max(1, Math.abs(e));
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  expect(worst, `worst at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(tol);
}

/** Sets the layer up for the bottoms, runs forward, returns the tops (caller disposes). */
function forward(layer: Layer, bottoms: tf.Tensor[]): tf.Tensor[] {
  layer.setup(bottoms.map((b) => b.shape));
  return layer.forward(bottoms);
}

const geometry = (k: number[], s: number[], p: number[], d: number[], group = 1): ref.Geometry => ({
  kernel: k as [number, number],
  stride: s as [number, number],
  pad: p as [number, number],
  dilation: d as [number, number],
  group,
});

export function visionSuite(backend: 'cpu' | 'wasm'): void {
  describe(`vision layers on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });

    describe('gradient checks', () => {
      for (const c of GRADIENT_CASES) {
        it(c.name, () => {
          const layer = layerAt(c.layer, c.phase);
          const before = tf.memory().numTensors;
          const r = checkGradient(layer, c.opts);
          expect(r.failures).toEqual([]);
          expect(r.checked).toBeGreaterThan(10);
          layer.dispose();
          // the checker's own parameter perturbations (Variable.assign of fresh tensors) are its business
          expect(tf.memory().numTensors - before).toBeLessThanOrEqual(200);
        });
      }
    });

    describe('forward matches loop implementations of Caffe', () => {
      const convCases: Array<{ name: string; x: number[]; o: number; g: ref.Geometry; param: string }> = [
        { name: 'dilation 2 with stride 2', x: [2, 2, 9, 8], o: 3, g: geometry([3, 3], [2, 2], [1, 1], [2, 2]), param: 'kernel_size: 3 stride: 2 pad: 1 dilation: 2' },
        { name: 'per-axis repeated values', x: [1, 2, 8, 9], o: 2, g: geometry([3, 2], [2, 3], [1, 0], [1, 2]), param: 'kernel_size: 3 kernel_size: 2 stride: 2 stride: 3 pad: 1 pad: 0 dilation: 1 dilation: 2' },
        { name: 'depthwise multiplier 2, dilation 2', x: [2, 3, 7, 7], o: 6, g: geometry([3, 3], [1, 1], [2, 2], [2, 2], 3), param: 'kernel_size: 3 pad: 2 dilation: 2' },
        { name: 'group 3 of 2 channels each', x: [1, 6, 5, 5], o: 3, g: geometry([3, 3], [2, 2], [0, 0], [1, 1], 3), param: 'kernel_size: 3 stride: 2' },
        { name: 'pad larger than the kernel', x: [1, 2, 3, 3], o: 2, g: geometry([2, 2], [1, 1], [3, 3], [1, 1]), param: 'kernel_size: 2 pad: 3' },
      ];
      for (const c of convCases) {
        it(`Convolution: ${c.name}`, () => {
          const layer = layerAt(`name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: ${c.o} ${c.param} group: ${c.g.group} ${FILLERS} }`);
          const x = ref.blob(c.x, (i) => Math.sin(i * 0.7));
          const [y] = forward(layer, [tf.tensor(x.data, x.shape)]);
          const expected = ref.conv(x, { shape: layer.blobs[0]!.shape, data: layer.blobs[0]!.dataSync() as Float32Array }, layer.blobs[1]!.dataSync() as Float32Array, c.g);
          expect(y!.shape).toEqual(expected.shape);
          expectClose(values(y!), expected.data);
          tf.dispose(y);
          layer.dispose();
        });
      }
      const deconvCases: Array<{ name: string; x: number[]; o: number; g: ref.Geometry; param: string }> = [
        { name: 'stride 3 pad 1', x: [2, 2, 3, 4], o: 3, g: geometry([3, 3], [3, 3], [1, 1], [1, 1]), param: 'kernel_size: 3 stride: 3 pad: 1' },
        { name: 'group 2, stride 2, dilation 2', x: [1, 4, 3, 3], o: 2, g: geometry([2, 3], [2, 2], [0, 1], [2, 2], 2), param: 'kernel_h: 2 kernel_w: 3 stride: 2 pad_h: 0 pad_w: 1 dilation: 2' },
        { name: 'depthwise', x: [2, 3, 4, 4], o: 3, g: geometry([3, 3], [2, 2], [1, 1], [1, 1], 3), param: 'kernel_size: 3 stride: 2 pad: 1' },
      ];
      for (const c of deconvCases) {
        it(`Deconvolution: ${c.name}`, () => {
          const layer = layerAt(`name: "d" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: ${c.o} ${c.param} group: ${c.g.group} ${FILLERS} }`);
          const x = ref.blob(c.x, (i) => Math.cos(i * 0.3));
          const [y] = forward(layer, [tf.tensor(x.data, x.shape)]);
          const expected = ref.deconv(x, { shape: layer.blobs[0]!.shape, data: layer.blobs[0]!.dataSync() as Float32Array }, layer.blobs[1]!.dataSync() as Float32Array, c.g);
          expect(y!.shape).toEqual(expected.shape);
          expectClose(values(y!), expected.data);
          tf.dispose(y);
          layer.dispose();
        });
      }

      const poolCases: Array<{ name: string; param: string; o: ref.PoolOptions; x: number[] }> = [
        { name: 'MAX 3x3 stride 2 pad 1 on all-negative input', param: 'pool: MAX kernel_size: 3 stride: 2 pad: 1', o: { method: 'MAX', kernel: [3, 3], stride: [2, 2], pad: [1, 1] }, x: [1, 2, 7, 8] },
        { name: 'MAX 2x2 stride 2 FLOOR', param: 'pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR', o: { method: 'MAX', kernel: [2, 2], stride: [2, 2], pad: [0, 0], ceil: false }, x: [1, 2, 7, 5] },
        { name: 'MAX 2x3 stride 3x1 pad 1x2 (clip rule)', param: 'pool: MAX kernel_h: 2 kernel_w: 3 stride_h: 3 stride_w: 1 pad_h: 1 pad_w: 2', o: { method: 'MAX', kernel: [2, 3], stride: [3, 1], pad: [1, 2] }, x: [2, 1, 8, 5] },
        { name: 'AVE 3x3 stride 3 pad 2 (clip rule, padded divisor)', param: 'pool: AVE kernel_size: 3 stride: 3 pad: 2', o: { method: 'AVE', kernel: [3, 3], stride: [3, 3], pad: [2, 2] }, x: [1, 2, 8, 7] },
        { name: 'AVE 4x4 stride 2 pad 3', param: 'pool: AVE kernel_size: 4 stride: 2 pad: 3', o: { method: 'AVE', kernel: [4, 4], stride: [2, 2], pad: [3, 3] }, x: [1, 1, 5, 6] },
        { name: 'AVE 2x2 stride 2 FLOOR', param: 'pool: AVE kernel_size: 2 stride: 2 round_mode: FLOOR', o: { method: 'AVE', kernel: [2, 2], stride: [2, 2], pad: [0, 0], ceil: false }, x: [2, 2, 5, 7] },
      ];
      for (const c of poolCases) {
        it(`Pooling ${c.name}: values, mask and backward`, () => {
          const max = c.o.method === 'MAX';
          const layer = layerAt(`name: "p" type: "Pooling" bottom: "x" top: "y" ${max ? 'top: "m"' : ''} pooling_param { ${c.param} }`);
          const x = ref.blob(c.x, (i) => (c.name.includes('negative') ? -1 - Math.abs(Math.sin(i * 1.3)) : Math.sin(i * 1.3)));
          const xt = tf.tensor(x.data, x.shape);
          const tops = forward(layer, [xt]);
          const topDiff = ref.blob(tops[0]!.shape, (i) => Math.cos(i * 0.9));
          const expected = ref.pool(x, c.o, topDiff);
          expect(tops[0]!.shape).toEqual(expected.y.shape);
          expectClose(values(tops[0]!), expected.y.data, 1e-5);
          if (max) expect(values(tops[1]!)).toEqual(Array.from(expected.mask.data));
          const dt = tf.tensor(topDiff.data, topDiff.shape);
          const zeros = tops.slice(1).map((t) => tf.zerosLike(t));
          const { bottomDiffs } = layer.backward([xt], tops, [dt, ...zeros], [true]);
          expectClose(values(bottomDiffs[0]!), expected.dx.data, 1e-5);
          tf.dispose([xt, dt, ...tops, ...zeros, ...bottomDiffs.filter((d): d is tf.Tensor => !!d)]);
        });
      }

      it('Pooling: a window past the image (kernel < stride, CEIL, no pad) gives Caffe’s -FLT_MAX, mask -1, AVE −0', () => {
        const plain = (t: tf.Tensor) => values(t).map((v) => v + 0); // −0 → 0
        const maxLayer = layerAt('name: "p" type: "Pooling" bottom: "x" top: "y" top: "m" pooling_param { pool: MAX kernel_size: 1 stride: 3 }');
        const aveLayer = layerAt('name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 1 stride: 3 }');
        // 4 x 4: (4 − 1) / 3 → 1 + 1 = 2 windows per axis, starting at 0 and 3 (inside)
        const x4 = tf.tensor(Array.from({ length: 16 }, (_, i) => i - 5), [1, 1, 4, 4]);
        const [y4, m4] = forward(maxLayer, [x4]);
        expect(plain(y4!)).toEqual([-5, -2, 7, 10]);
        expect(plain(m4!)).toEqual([0, 3, 12, 15]);
        // 5 x 5: ⌈(5 − 1) / 3⌉ + 1 = 3 windows per axis, the third starting at 6 ≥ 5: empty
        const x5 = tf.tensor(Array.from({ length: 25 }, (_, i) => -i), [1, 1, 5, 5]);
        const [y5, m5] = forward(maxLayer, [x5]);
        expect(y5!.shape).toEqual([1, 1, 3, 3]);
        const yv = plain(y5!);
        expect(yv.slice(0, 2)).toEqual([0, -3]);
        expect(yv[2]).toBe(-3.4028234663852886e38);
        expect(yv[8]).toBe(-3.4028234663852886e38);
        expect(plain(m5!)).toEqual([0, 3, -1, 15, 18, -1, -1, -1, -1]);
        // AVE: the empty window's pool_size is (5 − 6)·1 = −1 (Caffe divides 0 by it) or (−1)·(−1) = 1
        const [a5] = forward(aveLayer, [x5]);
        expect(plain(a5!)).toEqual([0, -3, 0, -15, -18, 0, 0, 0, 0]);
        tf.dispose([x4, y4, m4, x5, y5, m5, a5]);
      });

      it('Im2col: columns in Caffe’s (channel, kernel row, kernel column) order', () => {
        const layer = layerAt('name: "i" type: "Im2col" bottom: "x" top: "y" convolution_param { kernel_h: 2 kernel_w: 3 stride: 2 pad: 1 dilation: 1 }');
        const x = ref.blob([2, 3, 5, 6], (i) => i * 0.5 - 7);
        const [y] = forward(layer, [tf.tensor(x.data, x.shape)]);
        const expected = ref.im2col(x, geometry([2, 3], [2, 2], [1, 1], [1, 1]));
        expect(y!.shape).toEqual(expected.shape);
        expect(values(y!)).toEqual(Array.from(expected.data));
        tf.dispose(y);
      });

      for (const [name, param, size, alpha, beta, k, within] of [
        ['LRN ACROSS_CHANNELS size 3 on 2 channels (window past both ends)', 'local_size: 3 alpha: 2 beta: 0.5 k: 0.5', 3, 2, 0.5, 0.5, false],
        ['LRN WITHIN_CHANNEL size 5', 'norm_region: WITHIN_CHANNEL local_size: 5 alpha: 1.5 beta: 0.6', 5, 1.5, 0.6, 1, true],
      ] as const) {
        it(name, () => {
          const layer = layerAt(`name: "l" type: "LRN" bottom: "x" top: "y" lrn_param { ${param} }`);
          const x = ref.blob([2, 2, 4, 5], (i) => Math.sin(i) * 2);
          const [y] = forward(layer, [tf.tensor(x.data, x.shape)]);
          expectClose(values(y!), ref.lrn(x, size, alpha, beta, k, within).data, 1e-5);
          tf.dispose(y);
        });
      }

      it('SPP: levels of 1, 4 and 16 bins flattened and concatenated like Caffe', () => {
        const layer = layerAt('name: "s" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 3 pool: MAX }');
        const x = ref.blob([2, 3, 9, 7], (i) => Math.sin(i * 2.1));
        const [y] = forward(layer, [tf.tensor(x.data, x.shape)]);
        const parts: number[][] = [[], []];
        for (let level = 0; level < 3; level++) {
          const bins = 2 ** level;
          const kh = Math.ceil(9 / bins);
          const kw = Math.ceil(7 / bins);
          const o: ref.PoolOptions = { method: 'MAX', kernel: [kh, kw], stride: [kh, kw], pad: [Math.floor((kh * bins - 9 + 1) / 2), Math.floor((kw * bins - 7 + 1) / 2)] };
          const p = ref.pool(x, o).y;
          const per = p.data.length / 2;
          parts[0]!.push(...p.data.slice(0, per));
          parts[1]!.push(...p.data.slice(per));
        }
        expect(y!.shape).toEqual([2, parts[0]!.length]);
        expect(y!.shape).toEqual([2, 3 * (1 + 4 + 16)]);
        expectClose(values(y!), [...parts[0]!, ...parts[1]!], 0);
        tf.dispose(y);
      });
    });

    describe('MAX pooling routes each window’s gradient to its first maximum (Caffe), ties included', () => {
      for (const [k, s] of [
        [2, 2],
        [2, 1],
        [3, 2],
        [3, 1],
      ]) {
        it(`kernel ${k} stride ${s}, on ReLU-like input full of zeros`, () => {
          const shape = [2, 4, 8, 8];
          const rng = new Rng(k * 10 + s);
          const x = ref.blob(shape, () => Math.max(0, Math.round(rng.normal())));
          const layer = layerAt(`name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: ${k} stride: ${s} }`);
          const xt = tf.tensor(x.data, x.shape);
          const [y] = forward(layer, [xt]);
          const o: ref.PoolOptions = { method: 'MAX', kernel: [k, k], stride: [s, s], pad: [0, 0] };
          const dy = ref.blob(y!.shape, () => 1);
          const expected = ref.pool(x, o, dy).dx;
          const dyt = tf.tensor(dy.data, dy.shape);
          const { bottomDiffs } = layer.backward([xt], [y!], [dyt], [true]);
          const got = values(bottomDiffs[0]!);
          expect(got).toEqual(Array.from(expected.data));
          expect(got.reduce((a, b) => a + b, 0)).toBe(count(y!.shape));
          tf.dispose([xt, y, dyt, bottomDiffs[0]!]);
        });
      }
    });

    describe('STOCHASTIC pooling', () => {
      it('at TEST: Σx² / Σx per window', () => {
        const layer = layerAt('name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }', Phase.TEST);
        const x = tf.tensor([1, 2, 0, 0, 3, 4, 0, 0, 5, 0, 1, 1, 0, 0, 1, 1], [1, 1, 4, 4]);
        const [y] = forward(layer, [x]);
        expectClose(values(y!), [(1 + 4 + 9 + 16) / 10, 0, 25 / 5, 4 / 4], 1e-6);
        tf.dispose([x, y]);
      });
      it('at TRAIN: samples an element of each window with probability x / Σx and routes its gradient there', () => {
        const layer = layerAt('name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }', Phase.TRAIN);
        // window 0 has a single positive element: always chosen. window 1: 1 vs 3.
        const x = tf.tensor([0, 0, 1, 0, 0, 7, 0, 3], [1, 1, 2, 4]);
        layer.setup([x.shape]);
        let picksOfThree = 0;
        const runs = 300;
        for (let i = 0; i < runs; i++) {
          const [y] = layer.forward([x]);
          const v = values(y!);
          expect(v[0]).toBe(7);
          expect([1, 3]).toContain(v[1]);
          if (v[1] === 3) picksOfThree++;
          const dy = tf.tensor([10, 20], [1, 1, 1, 2]);
          const { bottomDiffs } = layer.backward([x], [y!], [dy], [true]);
          const d = values(bottomDiffs[0]!);
          expect(d).toEqual(v[1] === 3 ? [0, 0, 0, 0, 0, 10, 0, 20] : [0, 0, 20, 0, 0, 10, 0, 0]);
          tf.dispose([y, dy, bottomDiffs[0]!]);
        }
        expect(picksOfThree / runs).toBeGreaterThan(0.65);
        expect(picksOfThree / runs).toBeLessThan(0.85);
        layer.dispose();
        x.dispose();
      });
      it('with windows past the image (kernel 2, stride 5, CEIL) samples inside each live window, in every plane', () => {
        const layer = layerAt('name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 5 }', Phase.TRAIN);
        const x = tf.tensor(Array.from({ length: 3 * 64 }, (_, i) => 1 + i), [1, 3, 8, 8]);
        layer.setup([x.shape]);
        const [y] = layer.forward([x]);
        expect(y!.shape).toEqual([1, 3, 3, 3]); // windows start at 0, 5 and 10 (past the image)
        const v = values(y!);
        for (let p = 0; p < 3; p++)
          for (const [oy, ox] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
            const at = (r: number, q: number) => 1 + p * 64 + r * 8 + q;
            const r0 = oy * 5;
            const q0 = ox * 5;
            expect([at(r0, q0), at(r0, q0 + 1), at(r0 + 1, q0), at(r0 + 1, q0 + 1)]).toContain(v[p * 9 + oy * 3 + ox]);
          }
        tf.dispose([x, y!]);
        layer.dispose();
      });
      it('with windows past the image (kernel 1, stride 3, CEIL) samples each live window’s element, in every plane', () => {
        for (const phase of [Phase.TRAIN, Phase.TEST]) {
          const layer = layerAt('name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 1 stride: 3 }', phase);
          const x = tf.tensor(Array.from({ length: 3 * 25 }, (_, i) => 1 + i), [1, 3, 5, 5]);
          layer.setup([x.shape]);
          const [y] = layer.forward([x]);
          expect(y!.shape).toEqual([1, 3, 3, 3]);
          const v = values(y!);
          for (let p = 0; p < 3; p++) {
            // Live windows start at rows/columns 0 and 3: the single element there (Σx²/Σx of one element is itself).
            const at = (r: number, q: number) => 1 + p * 25 + r * 5 + q;
            expect([v[p * 9]!, v[p * 9 + 1]!, v[p * 9 + 3]!, v[p * 9 + 4]!]).toEqual([at(0, 0), at(0, 3), at(3, 0), at(3, 3)]);
          }
          tf.dispose([x, y!]);
          layer.dispose();
        }
      });
    });

    describe('Convolution details', () => {
      it('skips the gradient of a parameter with lr_mult 0 (Caffe’s param_propagate_down)', () => {
        const layer = layerAt(`name: "c" type: "Convolution" bottom: "x" top: "y" param { lr_mult: 0 } param { lr_mult: 1 } convolution_param { num_output: 2 kernel_size: 3 ${FILLERS} }`);
        const x = tf.randomNormal([1, 2, 5, 5]);
        const [y] = forward(layer, [x]);
        const r = layer.backward([x], [y!], [tf.onesLike(y!)], [true]);
        expect(r.paramDiffs[0]).toBeNull();
        expect(values(r.paramDiffs[1]!)).toEqual([9, 9]);
        expect(r.bottomDiffs[0]!.shape).toEqual([1, 2, 5, 5]);
        tf.dispose([x, y, ...r.bottomDiffs.filter((d): d is tf.Tensor => !!d), ...r.paramDiffs.filter((d): d is tf.Tensor => !!d)]);
      });
      it('keeps its weights when set up again for a new batch size and spatial size', () => {
        const layer = layerAt(`name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 3 ${FILLERS} }`);
        expect(layer.setup([[1, 2, 5, 5]])).toEqual([[1, 2, 3, 3]]);
        const w = layer.blobs[0]!;
        expect(layer.setup([[4, 2, 9, 7]])).toEqual([[4, 2, 7, 5]]);
        expect(layer.blobs[0]).toBe(w);
        layer.dispose();
      });
    });

    describe('in a net', () => {
      it('LeNet-like conv → pool → LRN → conv → AVE pool forward/backward keeps the tensor count flat', () => {
        const text = `
          force_backward: true
          layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 1 dim: 12 dim: 12 } } }
          layer { name: "c1" type: "Convolution" bottom: "x" top: "c1" convolution_param { num_output: 4 kernel_size: 3 ${FILLERS} } }
          layer { name: "p1" type: "Pooling" bottom: "c1" top: "p1" top: "m1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
          layer { name: "n1" type: "LRN" bottom: "p1" top: "n1" lrn_param { local_size: 3 } }
          layer { name: "d1" type: "Deconvolution" bottom: "n1" top: "d1" convolution_param { num_output: 2 kernel_size: 2 stride: 2 ${FILLERS} } }
          layer { name: "k1" type: "Crop" bottom: "d1" bottom: "p1" top: "k1" crop_param { offset: 2 } }
          layer { name: "c2" type: "Convolution" bottom: "k1" top: "c2" convolution_param { num_output: 3 kernel_size: 3 group: 1 ${FILLERS} } }
          layer { name: "p2" type: "Pooling" bottom: "c2" top: "p2" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
          layer { name: "s" type: "SPP" bottom: "p2" top: "s" spp_param { pyramid_height: 2 } }
          layer { name: "i" type: "Im2col" bottom: "p2" top: "i" convolution_param { kernel_size: 2 } }`;
        const net = new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase: Phase.TRAIN, seed: 3 });
        let counted = -1;
        for (let i = 0; i < 6; i++) {
          net.setInput('x', tf.randomNormal([2, 1, 12, 12]));
          net.forward();
          net.setTopDiff('s', tf.onesLike(net.blob('s')));
          net.setTopDiff('i', tf.onesLike(net.blob('i')));
          net.clearParamDiffs();
          net.backward();
          expect(net.blobDiff('x')!.shape).toEqual([2, 1, 12, 12]);
          if (i === 2) counted = tf.memory().numTensors;
          if (i > 2) expect(tf.memory().numTensors).toBe(counted);
        }
        net.dispose();
      });
    });
  });
}
