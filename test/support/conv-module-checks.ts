// Checks of kdnet's wasm convolution modules (src/backend/kernels/conv.ts, filter-grad.ts) through the Conv2D,
// FusedConv2D and Conv2DBackpropFilter kernels on the current (wasm) backend: by test/backend/conv-modules.test.ts
// in its own process (tfjs' single-threaded build) and by conv-modules-child.ts on the threaded build. Each
// case's result is compared with a float64 loop and summarized by a hash of its bits, so the two builds can be
// compared bitwise.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng.js';

export interface ConvCase {
  name: string;
  /** x as the kernel gets it (NHWC, or NCHW with dataFormat NCHW). */
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number[][];
  dataFormat?: 'NHWC' | 'NCHW';
}

const nhwc = (t: number, b: number, l: number, r: number) => [[0, 0], [t, b], [l, r], [0, 0]];

/**
 * Odd tap counts (a tap left over after pairs), 1–3 blocks of outputs and single vectors after them, outputs
 * not a multiple of 4, fewer output rows than parts, chunks of several rows, strides, asymmetric and 'same'
 * padding, a 1×1 image, NCHW.
 */
export const CONV_CASES: ConvCase[] = [
  { name: '3x3 pad 1, C 3, O 4', x: [2, 7, 6, 3], filter: [3, 3, 3, 4], strides: 1, pad: nhwc(1, 1, 1, 1) },
  { name: '5x5 stride 2, asymmetric pad, O 8', x: [2, 9, 8, 3], filter: [5, 5, 3, 8], strides: 2, pad: nhwc(2, 1, 2, 0) },
  { name: 'LeNet conv1 in small: 5x5 valid, C 1, O 20', x: [3, 12, 12, 1], filter: [5, 5, 1, 20], strides: 1, pad: 'valid' },
  { name: '3x2 stride 2x1, C 20, O 12', x: [2, 8, 9, 20], filter: [3, 2, 20, 12], strides: [2, 1], pad: nhwc(1, 1, 0, 1) },
  { name: 'CIFAR-10 quick conv2 in small: 5x5 pad 2, C 32, O 32', x: [4, 16, 16, 32], filter: [5, 5, 32, 32], strides: 1, pad: nhwc(2, 2, 2, 2) },
  { name: '1x1 image, 1x1 filter', x: [1, 1, 1, 4], filter: [1, 1, 4, 8], strides: 1, pad: 'valid' },
  { name: "3x3 stride 3 'same', C 5, O 36", x: [2, 10, 10, 5], filter: [3, 3, 5, 36], strides: 3, pad: 'same' },
  { name: 'one output pixel', x: [1, 5, 5, 2], filter: [5, 5, 2, 4], strides: 1, pad: 'valid' },
  { name: 'LeNet conv2 in small: 5x5 valid, C 20, O 50 (outputs widened to 52)', x: [2, 12, 12, 20], filter: [5, 5, 20, 50], strides: 1, pad: 'valid' },
  { name: '3x3 pad 1, O 5', x: [2, 6, 7, 3], filter: [3, 3, 3, 5], strides: 1, pad: nhwc(1, 1, 1, 1) },
  { name: '2x2 stride 2, O 1', x: [3, 6, 6, 2], filter: [2, 2, 2, 1], strides: 2, pad: 'valid' },
  { name: 'NCHW, 3x3 pad 1, O 16', x: [2, 3, 7, 6], filter: [3, 3, 3, 16], strides: 1, pad: [[0, 0], [0, 0], [1, 1], [1, 1]], dataFormat: 'NCHW' },
];

export interface ModuleResult {
  name: string;
  /** max |result − float64 reference| / max |reference| */
  relError: number;
  /** FNV-1a of the result's float32 bit patterns. */
  hash: number;
}

function hashBits(values: Float32Array): number {
  let h = 0x811c9dc5;
  for (const word of new Uint32Array(values.buffer, values.byteOffset, values.length)) {
    h ^= word;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Every (output pixel, input element, filter row) a convolution multiplies, padding as tfjs resolves it (NHWC, HWIO). */
function eachTap(info: tf.backend_util.Conv2DInfo, visit: (pixel: number, input: number, tap: number) => void): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let i = 0; i < kh; i++) {
          const iy = y * sh + i - top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = xo * sw + j - left;
            if (ix < 0 || ix >= w) continue;
            for (let ch = 0; ch < c; ch++) visit((b * oh + y) * ow + xo, ((b * h + iy) * w + ix) * c + ch, (i * kw + j) * c + ch);
          }
        }
}

/** dW (HWIO) of NHWC x and dy in float64. */
function referenceFilterGrad(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float64Array {
  const o = info.outChannels;
  const dw = new Float64Array(info.filterHeight * info.filterWidth * info.inChannels * o);
  eachTap(info, (pixel, input, tap) => {
    for (let k = 0; k < o; k++) dw[tap * o + k]! += x[input]! * dy[pixel * o + k]!;
  });
  return dw;
}

/** A case's NHWC geometry as tfjs resolves it (NCHW cases: x, padding and dy in NHWC order). */
function geometryOf(c: ConvCase): { nchw: boolean; info: tf.backend_util.Conv2DInfo; dyShape: number[] } {
  const nchw = c.dataFormat === 'NCHW';
  const xNhwc: [number, number, number, number] = nchw ? [c.x[0], c.x[2], c.x[3], c.x[1]] : c.x;
  const pad = nchw && Array.isArray(c.pad) ? [c.pad[0]!, c.pad[2]!, c.pad[3]!, c.pad[1]!] : c.pad;
  const info = tf.backend_util.computeConv2DInfo(xNhwc, c.filter, c.strides, 1, pad as never, undefined, false, 'channelsLast');
  const dyNhwc = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  return { nchw, info, dyShape: nchw ? [dyNhwc[0]!, dyNhwc[3]!, dyNhwc[1]!, dyNhwc[2]!] : dyNhwc };
}

const toNhwc = (v: Float32Array, [n, c, h, w]: number[]) => tf.tidy(() => tf.transpose(tf.tensor(v, [n!, c!, h!, w!]), [0, 2, 3, 1]).dataSync() as Float32Array);

/** Every case through the backend's Conv2DBackpropFilter kernel. */
export function filterGradResults(seed = 13): ModuleResult[] {
  const rng = new Rng(seed);
  return CONV_CASES.map((c) => {
    const { nchw, info, dyShape } = geometryOf(c);
    const x = Float32Array.from({ length: c.x.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const dy = Float32Array.from({ length: dyShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const got = tf.tidy(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', filterShape: c.filter } as never) as tf.Tensor);
    const values = got.dataSync() as Float32Array;
    got.dispose();
    return compared(c.name, values, referenceFilterGrad(nchw ? toNhwc(x, c.x) : x, nchw ? toNhwc(dy, dyShape) : dy, info));
  });
}

function compared(name: string, values: Float32Array, want: Float64Array): ModuleResult {
  let scale = 0;
  let error = 0;
  want.forEach((v, i) => {
    scale = Math.max(scale, Math.abs(v));
    error = Math.max(error, Math.abs(v - values[i]!));
  });
  return { name, relError: values.length === want.length ? error / scale : Infinity, hash: hashBits(values) };
}

/** out (NHWC) of NHWC x and the HWIO filter in float64, plus the bias. */
function referenceConv(x: Float32Array, filter: Float32Array, bias: Float32Array | undefined, info: tf.backend_util.Conv2DInfo): Float64Array {
  const o = info.outChannels;
  const out = new Float64Array(info.batchSize * info.outHeight * info.outWidth * o);
  if (bias) out.forEach((_, i) => (out[i] = bias[i % o]!));
  eachTap(info, (pixel, input, tap) => {
    for (let k = 0; k < o; k++) out[pixel * o + k]! += x[input]! * filter[tap * o + k]!;
  });
  return out;
}

/** Every case through the backend's Conv2D kernel, and (NHWC cases) FusedConv2D with a bias. */
export function convResults(seed = 17): ModuleResult[] {
  const rng = new Rng(seed);
  return CONV_CASES.flatMap((c) => {
    const { nchw, info } = geometryOf(c);
    const x = Float32Array.from({ length: c.x.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const filter = Float32Array.from({ length: c.filter.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const bias = Float32Array.from({ length: c.filter[3] }, () => rng.normal());
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dilations: 1 };
    const run = (name: string, withBias: boolean) => {
      const inputs: Record<string, tf.Tensor> = { x: tf.tensor(x, c.x), filter: tf.tensor(filter, c.filter) };
      if (withBias) inputs.bias = tf.tensor(bias);
      const y = tf.tidy(() => tf.engine().runKernel(name, inputs, (withBias ? { ...attrs, activation: 'linear' } : attrs) as never) as tf.Tensor);
      const values = (nchw ? tf.tidy(() => tf.transpose(y, [0, 2, 3, 1]).dataSync()) : y.dataSync()) as Float32Array;
      tf.dispose([y, ...Object.values(inputs)]);
      return values;
    };
    const xs = nchw ? toNhwc(x, c.x) : x;
    const results = [compared(`Conv2D ${c.name}`, run('Conv2D', false), referenceConv(xs, filter, undefined, info))];
    if (!nchw) results.push(compared(`FusedConv2D ${c.name}`, run('FusedConv2D', true), referenceConv(xs, filter, bias, info)));
    return results;
  });
}

/**
 * Products the matrix module takes, directly or after the BatchMatMul workaround's transposes: M and N not
 * multiples of 4, tiny and LeNet/MLP-sized, rows a whole number of KiB (skewed), rank 3 with batch 1.
 */
export const GEMM_CASES: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
  { a: [7, 5], b: [5, 3], transposeA: false, transposeB: false },
  { a: [1, 1], b: [1, 1], transposeA: false, transposeB: false },
  { a: [64, 800], b: [500, 800], transposeA: false, transposeB: true },
  { a: [64, 500], b: [500, 800], transposeA: false, transposeB: false },
  { a: [64, 500], b: [64, 800], transposeA: true, transposeB: false },
  { a: [64, 10], b: [64, 500], transposeA: true, transposeB: false },
  { a: [100, 1200], b: [10, 1200], transposeA: false, transposeB: true },
  { a: [13, 37], b: [21, 13], transposeA: true, transposeB: true },
  { a: [1, 9, 6], b: [1, 6, 70], transposeA: false, transposeB: false },
  { a: [6, 40], b: [40, 512], transposeA: false, transposeB: false },
  { a: [3, 4, 5], b: [3, 5, 8], transposeA: false, transposeB: false },
];

/** Every GEMM case through tf.matMul (BatchMatMul). */
export function gemmResults(seed = 19): ModuleResult[] {
  const rng = new Rng(seed);
  return GEMM_CASES.map((c) => {
    const a = Float32Array.from({ length: c.a.reduce((p, d) => p * d, 1) }, () => rng.normal());
    const b = Float32Array.from({ length: c.b.reduce((p, d) => p * d, 1) }, () => rng.normal());
    const y = tf.tidy(() => tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), c.transposeA, c.transposeB));
    const values = y.dataSync() as Float32Array;
    y.dispose();
    const r = c.a.length;
    const [ar, ac] = c.a.slice(-2) as [number, number];
    const [br, bc] = c.b.slice(-2) as [number, number];
    const [m, k] = c.transposeA ? [ac, ar] : [ar, ac];
    const n = c.transposeB ? br : bc;
    const batch = c.a.slice(0, r - 2).reduce((p, d) => p * d, 1);
    const want = new Float64Array(batch * m * n);
    for (let t = 0; t < batch; t++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let q = 0; q < k; q++) {
            const av = a[t * ar * ac + (c.transposeA ? q * ac + i : i * ac + q)]!;
            const bv = b[t * br * bc + (c.transposeB ? j * bc + q : q * bc + j)]!;
            sum += av * bv;
          }
          want[(t * m + i) * n + j] = sum;
        }
    return compared(`matMul [${c.a}]${c.transposeA ? 'ᵀ' : ''}·[${c.b}]${c.transposeB ? 'ᵀ' : ''}`, values, want);
  });
}
