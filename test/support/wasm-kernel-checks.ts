// Checks of kdnet's wasm SIMD kernels against their references, run on the current (wasm) backend: by the
// tests in this process (tfjs' single-threaded build) and in a child process on its threaded build
// (wasm-kernels-child.ts). Each returns the cases whose results differ bitwise (empty: all equal).
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng.js';
import { firstMaxIndex, scatterToFirstMax } from '../../src/backend/kernels/max-pool-first.js';

type Pad = 'valid' | 'same' | number[][];
export interface PoolCase {
  x: [number, number, number, number];
  k: number | [number, number];
  s: number | [number, number];
  pad: Pad;
}

const nhwc = (t: number, b: number, l: number, r: number) => [[0, 0], [t, b], [l, r], [0, 0]];

/** Geometries: LeNet's and CIFAR-quick's (as one-channel planes), C = 1, 3, 20, 50, padding, overhang. */
export const POOL_CASES: PoolCase[] = [
  { x: [6, 24, 24, 1], k: 2, s: 2, pad: 'valid' },
  { x: [8, 8, 8, 1], k: 2, s: 2, pad: 'valid' },
  { x: [4, 32, 32, 1], k: 3, s: 2, pad: nhwc(0, 1, 0, 1) },
  { x: [4, 16, 16, 1], k: 3, s: 2, pad: nhwc(0, 1, 0, 1) },
  { x: [3, 13, 11, 1], k: 3, s: 1, pad: nhwc(1, 1, 1, 1) },
  { x: [2, 9, 10, 1], k: 4, s: 3, pad: 'valid' },
  { x: [2, 9, 10, 1], k: [2, 3], s: [1, 2], pad: nhwc(2, 1, 0, 2) },
  { x: [2, 7, 6, 3], k: 3, s: 2, pad: nhwc(1, 1, 1, 0) },
  { x: [2, 8, 9, 3], k: 2, s: 1, pad: 'same' },
  { x: [2, 12, 12, 20], k: 2, s: 2, pad: 'valid' },
  { x: [2, 8, 8, 50], k: 2, s: 2, pad: 'valid' },
  { x: [2, 9, 7, 50], k: 3, s: 2, pad: nhwc(1, 2, 2, 1) },
  { x: [1, 5, 5, 6], k: 3, s: 1, pad: 'same' },
  { x: [3, 5, 4, 2], k: 5, s: 2, pad: nhwc(2, 3, 1, 4) },
  { x: [2, 6, 6, 1], k: 1, s: 3, pad: nhwc(0, 2, 0, 2) },
  { x: [1, 1, 1, 1], k: 1, s: 1, pad: 'valid' },
  { x: [1, 3, 17, 1], k: [1, 2], s: [1, 2], pad: nhwc(0, 0, 1, 1) },
];

/** Small integers with many ties (as after a ReLU), a few -inf and NaN among them. */
function tiedValues(rng: Rng, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    v[i] = u < 0.02 ? -Infinity : u < 0.03 ? NaN : Math.max(0, Math.round(rng.normal() * 1.5));
  }
  return v;
}

/** The pooled maxima the kernel is given: the true ones, with some replaced by -inf, NaN or a value not in the window. */
function givenMaxima(rng: Rng, x: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const index = firstMaxIndex(x, info);
  return Float32Array.from(index, (i) => {
    const u = rng.uniform();
    if (u < 0.03) return -Infinity;
    if (u < 0.05) return NaN;
    if (u < 0.08) return 7.5;
    return i >= 0 ? x[i]! : -Infinity;
  });
}

const sameBits = (a: Float32Array, b: Float32Array) => {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
};

/** MaxPoolGrad on the backend against scatterToFirstMax, with and without the maxima. */
export function poolGradMismatches(seed = 7): string[] {
  const rng = new Rng(seed);
  const bad: string[] = [];
  for (const c of POOL_CASES) {
    const size = c.x.reduce((a, b) => a * b, 1);
    const x = tiedValues(rng, size);
    const info = tf.backend_util.computePool2DInfo(c.x, c.k as never, c.s as never, 1, c.pad as never);
    const dy = Float32Array.from({ length: info.outShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const maxima = givenMaxima(rng, x, info);
    for (const withMaxima of [true, false]) {
      const want = new Float32Array(size);
      scatterToFirstMax(x, info, withMaxima ? maxima : undefined, dy, want);
      const got = tf.tidy(() => {
        const inputs: Record<string, tf.Tensor> = { dy: tf.tensor(dy, info.outShape), input: tf.tensor(x, c.x) };
        // A maxima tensor of another shape is ignored by the kernel: that is the case without maxima.
        inputs.output = withMaxima ? tf.tensor(maxima, info.outShape) : tf.zeros([1]);
        return tf.engine().runKernel('MaxPoolGrad', inputs, { filterSize: c.k, strides: c.s, pad: c.pad } as never) as tf.Tensor;
      });
      const data = got.dataSync() as Float32Array;
      got.dispose();
      if (!sameBits(data, want)) bad.push(`MaxPoolGrad ${JSON.stringify(c)} ${withMaxima ? 'with' : 'without'} maxima`);
    }
  }
  return bad;
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Shapes × permutations: every permutation of ranks 2–4 on odd sizes and size-1 axes, and a training step's. */
export const TRANSPOSE_CASES: Array<{ shape: number[]; perm: number[] }> = [
  ...[[7, 9], [1, 9], [4, 8], [13, 5]].flatMap((shape) => permutations(2).map((perm) => ({ shape, perm }))),
  ...[[3, 6, 5], [4, 1, 8], [9, 7, 6], [5, 8, 4]].flatMap((shape) => permutations(3).map((perm) => ({ shape, perm }))),
  ...[[3, 5, 7, 2], [1, 6, 5, 4], [2, 1, 9, 1], [4, 5, 6, 7], [5, 4, 3, 1], [2, 8, 4, 12]].flatMap((shape) => permutations(4).map((perm) => ({ shape, perm }))),
  { shape: [3, 32, 16, 16], perm: [0, 2, 3, 1] },
  { shape: [3, 16, 16, 32], perm: [0, 3, 1, 2] },
  { shape: [5, 16, 16, 32], perm: [3, 1, 2, 0] },
  { shape: [5, 9, 9, 33], perm: [1, 2, 0, 3] },
  { shape: [3, 3, 32, 32], perm: [1, 2, 0, 3] },
  { shape: [32, 3, 5, 5], perm: [2, 3, 1, 0] },
  { shape: [5, 5, 32, 64], perm: [3, 2, 0, 1] },
  { shape: [64, 1024], perm: [1, 0] },
];

/** Transpose by the registered kernel against the kernel it replaced (`original`), float32 and int32. */
export function transposeMismatches(original: tf.KernelConfig, seed = 11): string[] {
  const rng = new Rng(seed);
  const bad: string[] = [];
  const backend = tf.backend();
  for (const { shape, perm } of TRANSPOSE_CASES) {
    for (const dtype of ['float32', 'int32'] as const) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = dtype === 'float32' ? Float32Array.from({ length: size }, () => rng.normal()) : Int32Array.from({ length: size }, () => Math.floor((rng.uniform() - 0.5) * 2 ** 31));
      const x = tf.tensor(values, shape, dtype);
      const ours = tf.transpose(x, perm);
      const info = original.kernelFunc({ inputs: { x }, attrs: { perm }, backend }) as tf.TensorInfo;
      const theirs = tf.engine().makeTensorFromTensorInfo(info);
      const a = new Int32Array((ours.dataSync() as Float32Array | Int32Array).slice().buffer);
      const b = new Int32Array((theirs.dataSync() as Float32Array | Int32Array).slice().buffer);
      if (ours.shape.join() !== theirs.shape.join() || a.length !== b.length || a.some((v, i) => v !== b[i])) bad.push(`Transpose ${dtype} [${shape}] perm [${perm}]`);
      tf.dispose([x, ours, theirs]);
    }
  }
  return bad;
}

export interface AvePoolCase {
  /** NCHW bottom shape. */
  x: [number, number, number, number];
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  /** FLOOR rounding instead of Caffe's default CEIL. */
  floor?: boolean;
}

/** Caffe's pooled size (PoolingLayer::Reshape): CEIL or FLOOR, and with padding the last window starts inside image or top/left pad. */
export function caffePooledSize(c: AvePoolCase): [number, number] {
  return [0, 1].map((i) => {
    const span = (c.x[2 + i]! + 2 * c.pad[i]! - c.kernel[i]!) / c.stride[i]!;
    let o = (c.floor ? Math.floor(span) : Math.ceil(span)) + 1;
    if ((c.pad[0] || c.pad[1]) && (o - 1) * c.stride[i]! >= c.x[2 + i]! + c.pad[i]!) o--;
    return o;
  }) as [number, number];
}

/** Caffe's AVE window (ph, pw): its pool_size over the padded image, then its rows and columns clipped to the image. */
function caffeWindow(c: AvePoolCase, ph: number, pw: number): { hs: number; ws: number; he: number; we: number; poolSize: number } {
  const [h, w] = [c.x[2], c.x[3]];
  const hs = ph * c.stride[0] - c.pad[0];
  const ws = pw * c.stride[1] - c.pad[1];
  const he = Math.min(hs + c.kernel[0], h + c.pad[0]);
  const we = Math.min(ws + c.kernel[1], w + c.pad[1]);
  return { hs: Math.max(hs, 0), ws: Math.max(ws, 0), he: Math.min(he, h), we: Math.min(we, w), poolSize: (he - hs) * (we - ws) };
}

/** Caffe's AVE Backward_cpu loop in float32: per plane and window, bottom += fround(top_diff / pool_size). */
export function caffeAveBackward(c: AvePoolCase, dy: Float32Array): Float32Array {
  const [n, ch, h, w] = c.x;
  const [oh, ow] = caffePooledSize(c);
  const dx = new Float32Array(n * ch * h * w);
  for (let plane = 0; plane < n * ch; plane++) {
    for (let ph = 0; ph < oh; ph++) {
      for (let pw = 0; pw < ow; pw++) {
        const { hs, ws, he, we, poolSize } = caffeWindow(c, ph, pw);
        const d = Math.fround(dy[(plane * oh + ph) * ow + pw]! / poolSize);
        for (let y = hs; y < he; y++) for (let x = ws; x < we; x++) dx[(plane * h + y) * w + x] += d;
      }
    }
  }
  return dx;
}

/** Caffe's AVE Forward_cpu loop in float32: each window summed from 0 in scan order, then / pool_size. */
export function caffeAveForward(c: AvePoolCase, x: Float32Array): Float32Array {
  const [n, ch, h, w] = c.x;
  const [oh, ow] = caffePooledSize(c);
  const y = new Float32Array(n * ch * oh * ow);
  for (let plane = 0; plane < n * ch; plane++) {
    for (let ph = 0; ph < oh; ph++) {
      for (let pw = 0; pw < ow; pw++) {
        const { hs, ws, he, we, poolSize } = caffeWindow(c, ph, pw);
        let sum = 0;
        for (let yy = hs; yy < he; yy++) for (let xx = ws; xx < we; xx++) sum = Math.fround(sum + x[(plane * h + yy) * w + xx]!);
        y[(plane * oh + ph) * ow + pw] = sum / poolSize;
      }
    }
  }
  return y;
}

/**
 * Geometries: CIFAR-10 quick's (3×3/2 CEIL over 32, 16, 8), LeNet-like 2×2/2, pad 1 and 2, kernel < stride
 * (CEIL windows past the image), rectangular kernel and stride, global pooling, a 1×1 image, FLOOR, C = 1,
 * C = 3, N > 1, widths that leave 1–3 columns after the last four.
 */
export const AVE_POOL_CASES: AvePoolCase[] = [
  { x: [2, 3, 32, 32], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },
  { x: [3, 4, 16, 16], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },
  { x: [2, 5, 8, 8], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },
  { x: [3, 2, 24, 24], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },
  { x: [2, 3, 7, 9], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },
  { x: [2, 3, 8, 7], kernel: [3, 3], stride: [2, 2], pad: [1, 1] },
  { x: [1, 3, 13, 11], kernel: [3, 3], stride: [1, 1], pad: [1, 1] },
  { x: [2, 2, 10, 9], kernel: [5, 5], stride: [2, 2], pad: [2, 2] },
  { x: [1, 2, 5, 6], kernel: [4, 4], stride: [2, 2], pad: [3, 3] },
  { x: [1, 2, 8, 7], kernel: [3, 3], stride: [3, 3], pad: [2, 2] },
  { x: [1, 2, 5, 5], kernel: [1, 1], stride: [3, 3], pad: [0, 0] },
  { x: [2, 1, 6, 6], kernel: [1, 1], stride: [3, 3], pad: [0, 0] },
  { x: [2, 2, 2, 2], kernel: [2, 2], stride: [3, 3], pad: [1, 1] },
  { x: [1, 3, 11, 10], kernel: [2, 2], stride: [3, 3], pad: [1, 1] },
  { x: [2, 3, 7, 6], kernel: [3, 2], stride: [2, 1], pad: [1, 0] },
  { x: [2, 3, 8, 10], kernel: [4, 3], stride: [3, 2], pad: [2, 1] },
  { x: [1, 2, 9, 12], kernel: [2, 5], stride: [1, 3], pad: [0, 2] },
  { x: [2, 3, 6, 5], kernel: [6, 5], stride: [1, 1], pad: [0, 0] },
  { x: [2, 4, 8, 8], kernel: [8, 8], stride: [1, 1], pad: [0, 0] },
  { x: [3, 2, 1, 1], kernel: [1, 1], stride: [1, 1], pad: [0, 0] },
  { x: [2, 3, 1, 1], kernel: [3, 3], stride: [2, 2], pad: [1, 1] },
  { x: [2, 2, 7, 5], kernel: [2, 2], stride: [2, 2], pad: [0, 0], floor: true },
  { x: [1, 1, 17, 19], kernel: [3, 3], stride: [2, 2], pad: [1, 1] },
];

/** Bitwise equal, any NaN matching any NaN (0 / 0 for a window wholly past an unpadded image). */
const sameBitsOrNaN = (a: Float32Array, b: Float32Array) => a.length === b.length && sameBits(a.map((v, i) => (Number.isNaN(v) && Number.isNaN(b[i]!) ? 0 : v)), b.map((v) => (Number.isNaN(v) ? 0 : v)));

/** CaffeAvgPool on the backend against caffeAveForward, bitwise. */
export function avePoolMismatches(seed = 17): string[] {
  const rng = new Rng(seed);
  const bad: string[] = [];
  for (const c of AVE_POOL_CASES) {
    const x = Float32Array.from({ length: c.x.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const want = caffeAveForward(c, x);
    const got = tf.tidy(() => {
      const attrs = { kernel: c.kernel, stride: c.stride, pad: c.pad, output: caffePooledSize(c) };
      return tf.engine().runKernel('CaffeAvgPool', { x: tf.tensor(x, c.x) }, attrs as never) as tf.Tensor;
    });
    const data = got.dataSync() as Float32Array;
    got.dispose();
    if (!sameBitsOrNaN(data, want)) bad.push(`CaffeAvgPool ${JSON.stringify(c)}`);
  }
  return bad;
}

/** CaffeAvgPoolGrad on the backend against caffeAveBackward, bitwise. */
export function avePoolGradMismatches(seed = 13): string[] {
  const rng = new Rng(seed);
  const bad: string[] = [];
  for (const c of AVE_POOL_CASES) {
    const output = caffePooledSize(c);
    const dyShape = [c.x[0], c.x[1], ...output];
    const dy = Float32Array.from({ length: dyShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const want = caffeAveBackward(c, dy);
    const got = tf.tidy(() => {
      const attrs = { kernel: c.kernel, stride: c.stride, pad: c.pad, output, inputShape: c.x };
      return tf.engine().runKernel('CaffeAvgPoolGrad', { dy: tf.tensor(dy, dyShape) }, attrs as never) as tf.Tensor;
    });
    const data = got.dataSync() as Float32Array;
    got.dispose();
    if (!sameBits(data, want)) bad.push(`CaffeAvgPoolGrad ${JSON.stringify(c)}`);
  }
  return bad;
}
