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
