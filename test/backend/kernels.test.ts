// The wasm kernel workarounds of src/backend/kernels/: each one is checked against tfjs' cpu backend, and each
// test also removes (or bypasses) the workaround to show what goes wrong without it — a missing kernel, a
// wrong gradient on tied maxima, or a much slower kernel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/util/rng.js';
import { conv2dBackpropFilterWasm, filterGradientPath, IM2COL_MAX_ROWS } from '../../src/backend/kernels/conv2d-backprop-filter.js';
import { conv2dBackpropInputWasm } from '../../src/backend/kernels/conv2d-backprop-input.js';
import { flipTaps } from '../../src/backend/kernels/flip-taps.js';
import { depthwiseBackpropFilterWasm } from '../../src/backend/kernels/depthwise-conv2d-backprop-filter.js';
import { depthwiseBackpropInputWasm } from '../../src/backend/kernels/depthwise-conv2d-backprop-input.js';
import { maxPoolGradWasm } from '../../src/backend/kernels/max-pool-grad.js';
import { maxPoolWithArgmaxWasm } from '../../src/backend/kernels/max-pool-with-argmax.js';
import { batchMatMulWasm } from '../../src/backend/kernels/batch-mat-mul.js';
import { conv2dWasm } from '../../src/backend/kernels/conv2d.js';
import type { KernelReplacement } from '../../src/backend/kernels/replace.js';

interface Arr {
  shape: number[];
  data: number[];
}

const rng = new Rng(99);
const normal = (shape: number[]): Arr => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
/** Small integers ≥ 0 with many zeros: max-pool windows full of tied maxima, as after a ReLU. */
const tieHeavy = (shape: number[]): Arr => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.max(0, Math.round(rng.normal() * 1.5))) });
const t = (a: Arr, dtype: 'float32' | 'int32' = 'float32') => tf.tensor(a.data, a.shape, dtype);
type Run = () => tf.Tensor | tf.Tensor[];

/** Runs `f` on `backend` and returns plain arrays (each output flattened). */
async function on(backend: 'cpu' | 'wasm', f: Run): Promise<Arr[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const arrays = out.map((o) => ({ shape: o.shape, data: Array.from(o.dataSync()) }));
  tf.dispose(out);
  return arrays;
}

function maxDiff(a: Arr[], b: Arr[]): number {
  expect(a.map((x) => x.shape)).toEqual(b.map((x) => x.shape));
  let m = 0;
  a.forEach((x, i) => x.data.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]!.data[j]!)))));
  return m;
}

/** Runs `f` with the workaround removed (tfjs' own kernel, or none), then puts the workaround back. */
async function without<T>(w: KernelReplacement, f: () => Promise<T>): Promise<T> {
  w.uninstall();
  try {
    return await f();
  } finally {
    w.install();
  }
}

/** Best of `reps` wall-clock times of `f` (ms), after one warm-up. (`f` must not return a big array from a
 * tf.tidy: tidy walks every element of what it returns looking for tensors.) */
function bestTime(f: () => void, reps = 5): number {
  f();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
const pad = (t: number, b: number, l: number, r: number) => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];
const nchwPad = (t: number, b: number, l: number, r: number) => [
  [0, 0],
  [0, 0],
  [t, b],
  [l, r],
];

beforeAll(async () => {
  await initBackend('cpu', true);
  await initBackend('wasm', true);
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('workarounds are installed on wasm', () => {
  it('registers every replacement when the wasm backend initializes', () => {
    for (const w of [conv2dBackpropFilterWasm, conv2dBackpropInputWasm, depthwiseBackpropFilterWasm, depthwiseBackpropInputWasm, maxPoolGradWasm, maxPoolWithArgmaxWasm, batchMatMulWasm, conv2dWasm]) {
      expect(w.installed, w.kernelName).toBe(true);
      expect(w.backendName).toBe('wasm');
    }
  });
});

describe('Conv2DBackpropFilter on wasm (missing in tfjs 4.22)', () => {
  const cases = [
    { name: '3x3 stride 1 pad 1', x: normal([2, 7, 6, 3]), dy: normal([2, 7, 6, 4]), attrs: { strides: 1, pad: pad(1, 1, 1, 1), dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } },
    { name: '5x5 stride 2 pad 2', x: normal([2, 7, 6, 3]), dy: normal([2, 4, 3, 2]), attrs: { strides: 2, pad: pad(2, 2, 2, 2), dataFormat: 'NHWC', filterShape: [5, 5, 3, 2] } },
    { name: '3x2 stride 2x1 pad 1x0', x: normal([2, 7, 6, 3]), dy: normal([2, 4, 5, 2]), attrs: { strides: [2, 1], pad: pad(1, 1, 0, 0), dataFormat: 'NHWC', filterShape: [3, 2, 3, 2] } },
    { name: 'valid, stride 3 (rows left over)', x: normal([1, 8, 9, 2]), dy: normal([1, 2, 3, 3]), attrs: { strides: 3, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] } },
    { name: 'NCHW', x: normal([2, 3, 7, 6]), dy: normal([2, 4, 7, 6]), attrs: { strides: 1, pad: 1, dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] } },
    { name: 'NCHW, explicit padding, 3x2 stride 2x1', x: normal([2, 3, 7, 6]), dy: normal([2, 4, 4, 7]), attrs: { strides: [2, 1], pad: nchwPad(1, 1, 1, 1), dataFormat: 'NCHW', filterShape: [3, 2, 3, 4] } },
    { name: '1 channel, 5x5 valid (LeNet conv1 in small)', x: normal([3, 12, 12, 1]), dy: normal([3, 8, 8, 5]), attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 1, 5] } },
    // More than IM2COL_MAX_ROWS filter rows (kh·kw·C): the convolution path.
    { name: '3x3 stride 1 pad 1, 16 channels', x: normal([2, 7, 6, 16]), dy: normal([2, 7, 6, 4]), attrs: { strides: 1, pad: pad(1, 1, 1, 1), dataFormat: 'NHWC', filterShape: [3, 3, 16, 4] } },
    { name: '5x5 stride 2 pad 2, 8 channels', x: normal([2, 7, 6, 8]), dy: normal([2, 4, 3, 2]), attrs: { strides: 2, pad: pad(2, 2, 2, 2), dataFormat: 'NHWC', filterShape: [5, 5, 8, 2] } },
    { name: 'NCHW, explicit padding, 3x2 stride 2x1, 24 channels', x: normal([2, 24, 7, 6]), dy: normal([2, 4, 4, 7]), attrs: { strides: [2, 1], pad: nchwPad(1, 1, 1, 1), dataFormat: 'NCHW', filterShape: [3, 2, 24, 4] } },
  ];
  for (const c of cases) {
    it(`matches cpu: ${c.name}`, async () => {
      const run = () => kernel('Conv2DBackpropFilter', { x: t(c.x), dy: t(c.dy) }, c.attrs);
      expect(maxDiff(await on('wasm', run), await on('cpu', run))).toBeLessThan(1e-4);
    });
  }
  it(`takes the im2col matmul up to ${IM2COL_MAX_ROWS} filter rows, the convolution above (the cases above cover both)`, () => {
    expect(filterGradientPath(cases[0]!.attrs.filterShape, [1, 1])).toBe('im2col'); // 3·3·3 = 27 rows
    expect(filterGradientPath(cases[6]!.attrs.filterShape, [1, 1])).toBe('im2col'); // 5·5·1
    expect(filterGradientPath(cases[7]!.attrs.filterShape, [1, 1])).toBe('convolution'); // 3·3·16 = 144
    expect(filterGradientPath(cases[8]!.attrs.filterShape, [1, 1])).toBe('convolution'); // 5·5·8 = 200
    expect(filterGradientPath(cases[9]!.attrs.filterShape, [1, 1])).toBe('convolution'); // 3·2·24 = 144
    expect(filterGradientPath([3, 3, 3, 4], [2, 2])).toBe('convolution');
  });
  it('is missing without the workaround', async () => {
    const x = normal([1, 5, 5, 2]);
    const run = () => kernel('Conv2DBackpropFilter', { x: t(x), dy: tf.ones([1, 3, 3, 2]) }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 2, 2] });
    expect(maxDiff(await on('wasm', run), await on('cpu', run))).toBeLessThan(1e-4);
    await without(conv2dBackpropFilterWasm, async () => {
      expect(conv2dBackpropFilterWasm.original).toBeUndefined();
      await expect(on('wasm', run)).rejects.toThrow(/Conv2DBackpropFilter/);
    });
  });
});

describe('Conv2DBackpropInput on wasm (shipped kernel is slow)', () => {
  it('rotates the filter by 180° in space with block copies (flipTaps), as tf.reverse on both spatial axes', async () => {
    const w = normal([3, 2, 4, 5]);
    const flipped = await on('wasm', () => flipTaps(t(w) as tf.Tensor4D));
    const reversed = await on('cpu', () => tf.reverse(t(w), [0, 1]));
    expect(flipped[0]!.shape).toEqual([3, 2, 4, 5]);
    expect(flipped[0]!.data).toEqual(reversed[0]!.data);
  });

  const cases = [
    { name: '3x3 stride 2 pad 1', dy: normal([2, 4, 3, 4]), filter: normal([3, 3, 3, 4]), attrs: { strides: 2, pad: pad(1, 1, 1, 1), dataFormat: 'NHWC', inputShape: [2, 7, 6, 3] } },
    { name: '4x4 stride 2 valid (deconvolution shape)', dy: normal([2, 3, 4, 3]), filter: normal([4, 4, 2, 3]), attrs: { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: [2, 8, 10, 2] } },
    { name: '3x2 stride 2x1 pad 1x0', dy: normal([2, 4, 5, 2]), filter: normal([3, 2, 3, 2]), attrs: { strides: [2, 1], pad: pad(1, 1, 0, 0), dataFormat: 'NHWC', inputShape: [2, 7, 6, 3] } },
    { name: 'pad larger than kernel − 1', dy: normal([1, 9, 8, 2]), filter: normal([3, 3, 2, 2]), attrs: { strides: 1, pad: pad(3, 3, 3, 3), dataFormat: 'NHWC', inputShape: [1, 5, 4, 2] } },
    { name: 'stride 3 with rows left over', dy: normal([1, 2, 3, 3]), filter: normal([3, 3, 2, 3]), attrs: { strides: 3, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 8, 9, 2] } },
    { name: 'NCHW', dy: normal([2, 4, 7, 6]), filter: normal([3, 3, 3, 4]), attrs: { strides: 1, pad: 1, dataFormat: 'NCHW', inputShape: [2, 3, 7, 6] } },
    { name: 'NCHW, explicit padding, 3x2 stride 2x1', dy: normal([2, 4, 4, 7]), filter: normal([3, 2, 3, 4]), attrs: { strides: [2, 1], pad: nchwPad(1, 1, 1, 1), dataFormat: 'NCHW', inputShape: [2, 3, 7, 6] } },
  ];
  for (const c of cases) {
    it(`matches cpu: ${c.name}`, async () => {
      const run = () => kernel('Conv2DBackpropInput', { dy: t(c.dy), filter: t(c.filter) }, c.attrs);
      expect(maxDiff(await on('wasm', run), await on('cpu', run))).toBeLessThan(1e-4);
    });
  }
  it('is at least twice as fast as the shipped kernel on a LeNet conv2 backward', async () => {
    await tf.setBackend('wasm');
    const dy = tf.randomNormal([64, 8, 8, 50]);
    const filter = tf.randomNormal([5, 5, 20, 50]);
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [64, 12, 12, 20] };
    const time = () => bestTime(() => tf.tidy(() => void (kernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor).dataSync()));
    const ours = time();
    const shipped = await without(conv2dBackpropInputWasm, async () => time());
    tf.dispose([dy, filter]);
    expect(ours * 2, `ours ${ours.toFixed(1)} ms, shipped ${shipped.toFixed(1)} ms`).toBeLessThan(shipped);
  });
});

describe('DepthwiseConv2dNativeBackprop{Input,Filter} on wasm (missing in tfjs 4.22)', () => {
  const cases = [
    { name: 'multiplier 2, stride 2, pad 1', x: normal([2, 7, 6, 3]), dy: normal([2, 4, 3, 6]), filter: normal([3, 3, 3, 2]), s: 2, p: pad(1, 1, 1, 1) },
    { name: 'multiplier 1, stride 1, pad 2 (5x5)', x: normal([2, 6, 6, 4]), dy: normal([2, 6, 6, 4]), filter: normal([5, 5, 4, 1]), s: 1, p: pad(2, 2, 2, 2) },
  ];
  for (const c of cases) {
    it(`input gradient matches cpu: ${c.name}`, async () => {
      const run = () => kernel('DepthwiseConv2dNativeBackpropInput', { dy: t(c.dy), filter: t(c.filter) }, { strides: c.s, dilations: 1, pad: c.p, inputShape: c.x.shape });
      expect(maxDiff(await on('wasm', run), await on('cpu', run))).toBeLessThan(1e-4);
      await without(depthwiseBackpropInputWasm, async () => {
        await expect(on('wasm', run)).rejects.toThrow(/DepthwiseConv2dNativeBackpropInput/);
      });
    });
    it(`filter gradient matches cpu: ${c.name}`, async () => {
      const run = () => kernel('DepthwiseConv2dNativeBackpropFilter', { x: t(c.x), dy: t(c.dy) }, { strides: c.s, dilations: 1, pad: c.p, filterShape: c.filter.shape });
      expect(maxDiff(await on('wasm', run), await on('cpu', run))).toBeLessThan(1e-4);
      await without(depthwiseBackpropFilterWasm, async () => {
        await expect(on('wasm', run)).rejects.toThrow(/DepthwiseConv2dNativeBackpropFilter/);
      });
    });
  }
  it('honours dilations (checked by finite differences of the forward depthwise convolution)', async () => {
    await tf.setBackend('wasm');
    const x = normal([1, 7, 6, 2]);
    const w = normal([3, 3, 2, 2]);
    const p = pad(2, 2, 2, 1);
    const forward = (xv: number[], wv: number[]) => tf.depthwiseConv2d(tf.tensor4d(xv, x.shape as [number, number, number, number]), tf.tensor4d(wv, w.shape as [number, number, number, number]), 1, p as never, 'NHWC', 2);
    const outShape = tf.tidy(() => forward(x.data, w.data).shape);
    const dy = normal(outShape);
    const objective = (xv: number[], wv: number[]) => tf.tidy(() => tf.sum(tf.mul(forward(xv, wv), t(dy))).dataSync()[0]!);
    const dx = tf.tidy(() => Array.from((kernel('DepthwiseConv2dNativeBackpropInput', { dy: t(dy), filter: t(w) }, { strides: 1, dilations: 2, pad: p, inputShape: x.shape }) as tf.Tensor).dataSync()));
    const dw = tf.tidy(() => Array.from((kernel('DepthwiseConv2dNativeBackpropFilter', { x: t(x), dy: t(dy) }, { strides: 1, dilations: 2, pad: p, filterShape: w.shape }) as tf.Tensor).dataSync()));
    const e = 1e-2;
    for (const i of [0, 9, 31, 50, 83]) {
      const plus = x.data.slice();
      const minus = x.data.slice();
      plus[i]! += e;
      minus[i]! -= e;
      expect(Math.abs((objective(plus, w.data) - objective(minus, w.data)) / (2 * e) - dx[i]!)).toBeLessThan(2e-3);
    }
    for (const i of [0, 7, 20, 35]) {
      const plus = w.data.slice();
      const minus = w.data.slice();
      plus[i]! += e;
      minus[i]! -= e;
      expect(Math.abs((objective(x.data, plus) - objective(x.data, minus)) / (2 * e) - dw[i]!)).toBeLessThan(2e-3);
    }
  });
});

describe('MaxPoolGrad on wasm (shipped kernel mishandles tied maxima)', () => {
  const cases = [
    { name: '2x2 stride 2', x: tieHeavy([2, 8, 8, 4]), k: 2, s: 2, p: 'valid' as unknown },
    { name: '2x2 stride 1', x: tieHeavy([2, 8, 8, 4]), k: 2, s: 1, p: 'valid' as unknown },
    { name: '3x3 stride 2, explicit padding with a ragged edge', x: tieHeavy([2, 7, 6, 3]), k: 3, s: 2, p: pad(1, 1, 1, 0) as unknown },
    { name: 'one-channel planes (as the Pooling layer passes them), 3x3 stride 2, CEIL overhang', x: tieHeavy([6, 9, 8, 1]), k: 3, s: 2, p: pad(0, 0, 0, 1) as unknown },
    { name: 'one-channel planes, 4x4 stride 3 (the general window loop)', x: tieHeavy([4, 10, 10, 1]), k: 4, s: 3, p: 'valid' as unknown },
  ];
  for (const c of cases) {
    it(`routes every window to its first maximum like cpu: ${c.name}`, async () => {
      const run = () => {
        const x = t(c.x) as tf.Tensor4D;
        const y = tf.maxPool(x, c.k, c.s, c.p as never);
        return kernel('MaxPoolGrad', { dy: tf.onesLike(y), input: x, output: y }, { filterSize: c.k, strides: c.s, pad: c.p });
      };
      const cpu = await on('cpu', run);
      const ours = await on('wasm', run);
      expect(maxDiff(ours, cpu)).toBe(0);
      const windows = (await on('cpu', () => tf.maxPool(t(c.x) as tf.Tensor4D, c.k, c.s, c.p as never)))[0]!.data.length;
      expect(ours[0]!.data.reduce((a, b) => a + b, 0)).toBe(windows); // every window's gradient lands somewhere
      const shipped = await without(maxPoolGradWasm, () => on('wasm', run));
      expect(maxDiff(shipped, cpu)).toBeGreaterThan(0.5);
    });
  }
  it('sends a window of equal values to its first element', async () => {
    const run = () => kernel('MaxPoolGrad', { dy: tf.ones([1, 3, 3, 1]), input: tf.zeros([1, 4, 4, 1]), output: tf.zeros([1, 3, 3, 1]) }, { filterSize: 2, strides: 1, pad: 'valid' });
    expect((await on('wasm', run))[0]!.data).toEqual([1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  });
});

describe('MaxPoolWithArgmax on wasm (shipped kernel returns the last of tied maxima)', () => {
  for (const includeBatchInIndex of [true, false]) {
    it(`matches cpu on tie-heavy input (includeBatchInIndex ${includeBatchInIndex})`, async () => {
      const x = tieHeavy([2, 7, 6, 3]);
      const run = () => kernel('MaxPoolWithArgmax', { x: t(x) }, { filterSize: 3, strides: 2, pad: 'valid', includeBatchInIndex });
      const cpu = await on('cpu', run);
      expect(maxDiff(await on('wasm', run), cpu)).toBe(0);
      const shipped = await without(maxPoolWithArgmaxWasm, () => on('wasm', run));
      expect(maxDiff([shipped[1]!], [cpu[1]!])).toBeGreaterThan(0);
    });
  }
  it('gives the first of equal values', async () => {
    const run = () => kernel('MaxPoolWithArgmax', { x: tf.tensor4d([1, 2, 2, 1, 3, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0], [1, 4, 4, 1]) }, { filterSize: 3, strides: 1, pad: 'valid', includeBatchInIndex: false });
    const [values, index] = await on('wasm', run);
    expect(values!.data).toEqual([3, 3, 3, 3]);
    expect(index!.data).toEqual([4, 5, 4, 5]);
  });
});

describe('BatchMatMul on wasm (transposed operands are slow in the shipped kernel)', () => {
  const a = normal([5, 3]);
  const b = normal([4, 5]);
  const a3 = normal([2, 3, 5]);
  const b3 = normal([2, 4, 5]);
  // A small batch against large weights: transposing the weights would move more than A and the result, so
  // the product is computed as (W·Aᵀ)ᵀ.
  const x = normal([2, 30]);
  const w = normal([40, 30]);
  const x3 = normal([3, 2, 30]);
  const w3 = normal([3, 40, 30]);
  const cases: Array<[string, Run]> = [
    ['x·Wᵀ, small batch (as (W·xᵀ)ᵀ)', () => tf.matMul(t(x), t(w), false, true)],
    ['xᵀᵀ·Wᵀ, small batch (as (W·xᵀ)ᵀ)', () => tf.matMul(tf.transpose(t(x)), t(w), true, true)],
    ['batched x·Wᵀ, small batch (as (W·xᵀ)ᵀ)', () => tf.matMul(t(x3), t(w3), false, true)],
    ['Aᵀ·B', () => tf.matMul(t(a), tf.transpose(t(b)), true, false)],
    ['A·Bᵀ', () => tf.matMul(tf.transpose(t(a)), t(b), false, true)],
    ['Aᵀ·Bᵀ', () => tf.matMul(t(a), t(b), true, true)],
    ['batched A·Bᵀ', () => tf.matMul(t(a3), t(b3), false, true)],
  ];
  for (const [name, f] of cases) {
    it(`matches cpu: ${name}`, async () => {
      expect(maxDiff(await on('wasm', f), await on('cpu', f))).toBeLessThan(1e-5);
    });
  }
  it('multiplies a transposed operand about as fast as a plain one (the shipped kernel is several times slower)', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([64, 800]);
    const w = tf.randomNormal([500, 800]);
    const wt = tf.transpose(w);
    const plain = bestTime(() => tf.tidy(() => void tf.matMul(x, wt).dataSync()));
    const transposed = bestTime(() => tf.tidy(() => void tf.matMul(x, w, false, true).dataSync()));
    const shipped = await without(batchMatMulWasm, async () => bestTime(() => tf.tidy(() => void tf.matMul(x, w, false, true).dataSync())));
    tf.dispose([x, w, wt]);
    const msg = `plain ${plain.toFixed(1)} ms, transposed ${transposed.toFixed(1)} ms, shipped transposed ${shipped.toFixed(1)} ms`;
    expect(transposed, msg).toBeLessThan(plain * 2 + 1);
    expect(transposed * 2, msg).toBeLessThan(shipped);
  });
});

describe('Conv2D on wasm (shipped kernel rejects NCHW)', () => {
  it('runs an NCHW convolution like cpu, and NHWC ones unchanged', async () => {
    const x = normal([2, 3, 7, 6]);
    const w = normal([3, 2, 3, 4]);
    const nchw = () => tf.conv2d(t(x) as tf.Tensor4D, t(w) as tf.Tensor4D, [2, 1], nchwPad(1, 1, 1, 1) as never, 'NCHW', 1);
    const nhwc = () => tf.conv2d(tf.transpose(t(x), [0, 2, 3, 1]) as tf.Tensor4D, t(w) as tf.Tensor4D, [2, 1], pad(1, 1, 1, 1) as never, 'NHWC', 1);
    const cpu = await on('cpu', nchw);
    expect(cpu[0]!.shape).toEqual([2, 4, 4, 7]);
    expect(maxDiff(await on('wasm', nchw), cpu)).toBeLessThan(1e-4);
    expect(maxDiff(await on('wasm', nhwc), await on('cpu', nhwc))).toBeLessThan(1e-4);
    await without(conv2dWasm, async () => {
      await expect(on('wasm', nchw)).rejects.toThrow(/channelsFirst/);
    });
  });
});

describe('tensor hygiene', () => {
  it('the replacements leave no tensors behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 7, 6, 3]);
    const dy = tf.randomNormal([2, 7, 6, 4]);
    const filter = tf.ones([3, 3, 3, 4]);
    const pooledDiff = tf.ones([2, 3, 3, 3]);
    const m = tf.ones([5, 4]);
    const before = tf.memory().numTensors;
    tf.dispose(kernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 1, dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] }));
    tf.dispose(kernel('Conv2DBackpropInput', { dy, filter }, { strides: 1, pad: 1, dataFormat: 'NHWC', inputShape: [2, 7, 6, 3] }));
    tf.dispose(kernel('DepthwiseConv2dNativeBackpropInput', { dy: x, filter: tf.ones([3, 3, 3, 1]) }, { strides: 1, dilations: 1, pad: 1, inputShape: [2, 7, 6, 3] }));
    tf.dispose(kernel('MaxPoolGrad', { dy: pooledDiff, input: x, output: x }, { filterSize: 2, strides: 2, pad: 'valid' }));
    tf.dispose(kernel('MaxPoolWithArgmax', { x }, { filterSize: 2, strides: 2, pad: 'valid', includeBatchInIndex: true }));
    tf.dispose(tf.matMul(m, m, false, true));
    expect(tf.memory().numTensors - before).toBe(1); // the depthwise filter made inline above
    tf.dispose([x, dy, filter, pooledDiff, m]);
  });
});
