// The kernel calls test/backend/native/leak.test.ts repeats 10,000 times, one line per call: a new native
// kernel (AvgPool, NCHW convolution, ...) is one more line in LEAK_CALLS (its inputs are named and shaped in
// that line). Each covers the native path or, where marked, a case the native kernel hands back to the wasm
// one. Only tfjs is imported: nothing here depends on how kdnet is loaded.
import * as tf from '@tensorflow/tfjs-core';

type Input = (name: string, shape: number[]) => tf.Tensor;
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
const pool = { filterSize: [2, 2], strides: [2, 2], pad: [[0, 0], [0, 0], [0, 0], [0, 0]] };
const caffePool = { kernel: [3, 3], stride: [2, 2], pad: [1, 1], output: [5, 5] };
const pastImage = { kernel: [1, 1], stride: [3, 3], pad: [0, 0], output: [3, 3] };

/** kind, nchw, n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pads ×4, group, caffe, bias. */
const caffeConv = (kind: number) => [kind, 1, 2, 12, 12, 20, 8, 8, 50, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, kind === 1 ? 0 : 1];

export const LEAK_CALLS: Array<[label: string, call: (input: Input) => unknown]> = [
  ['Conv2D', (t) => run('Conv2D', { x: t('x', [2, 12, 12, 20]), filter: t('filter', [5, 5, 20, 50]) }, conv)],
  ['Conv2DBackpropInput', (t) => run('Conv2DBackpropInput', { dy: t('dy', [2, 8, 8, 50]), filter: t('filter', [5, 5, 20, 50]) }, { ...conv, inputShape: [2, 12, 12, 20] })],
  ['Conv2DBackpropFilter', (t) => run('Conv2DBackpropFilter', { x: t('x', [2, 12, 12, 20]), dy: t('dy', [2, 8, 8, 50]) }, { ...conv, filterShape: [5, 5, 20, 50] })],
  ['BatchMatMul a·bᵀ', (t) => run('BatchMatMul', { a: t('a', [32, 300]), b: t('b', [200, 300]) }, { transposeA: false, transposeB: true })],
  ['Conv2D stride 4, ceil (falls back)', (t) => run('Conv2D', { x: t('odd', [1, 10, 10, 2]), filter: t('oddFilter', [3, 3, 2, 3]) }, { ...conv, strides: [4, 4], pad: 1, dimRoundingMode: 'ceil' })],
  ['MaxPool', (t) => run('MaxPool', { x: t('planes', [40, 24, 24, 1]) }, pool)],
  ['MaxPoolGrad', (t) => run('MaxPoolGrad', { dy: t('pooledDiff', [40, 12, 12, 1]), input: t('planes', [40, 24, 24, 1]), output: t('pooled', [40, 12, 12, 1]) }, pool)],
  // Caffe layouts (params as src/backend/native/caffe-conv.ts lays them out: LeNet conv2 at batch 2 with bias).
  ['KdnetConvolution', (t) => run('KdnetConvolution', { x: t('xNchw', [2, 20, 12, 12]), filter: t('wOihw', [50, 20, 5, 5]), bias: t('bias', [50]) }, { params: caffeConv(0) })],
  ['KdnetConvolutionBackpropInput', (t) => run('KdnetConvolutionBackpropInput', { dy: t('dyNchw', [2, 50, 8, 8]), filter: t('wOihw', [50, 20, 5, 5]) }, { params: caffeConv(1) })],
  ['KdnetConvolutionBackpropFilter (+ bias)', (t) => run('KdnetConvolutionBackpropFilter', { x: t('xNchw', [2, 20, 12, 12]), dy: t('dyNchw', [2, 50, 8, 8]) }, { params: caffeConv(2) })],
  ['KdnetGemm x·Wᵀ + b', (t) => run('KdnetGemm', { a: t('ipX', [2, 50, 4, 4]), b: t('ipW', [500, 800]), bias: t('ipB', [500]) }, { m: 2, n: 500, k: 800, transA: false, transB: true })],
  // Caffe's MAX and AVE pooling on N·C planes: pad and CEIL overhang (AVE's padded copy), then windows past the image (both fall back).
  ['CaffeMaxPool', (t) => run('CaffeMaxPool', { x: t('blob', [4, 10, 9, 9]) }, caffePool)],
  ['CaffeAvgPool', (t) => run('CaffeAvgPool', { x: t('blob', [4, 10, 9, 9]) }, caffePool)],
  ['CaffeAvgPoolGrad', (t) => run('CaffeAvgPoolGrad', { dy: t('blobDiff', [4, 10, 5, 5]) }, { ...caffePool, inputShape: [4, 10, 9, 9] })],
  ['CaffeMaxPool past the image (falls back)', (t) => run('CaffeMaxPool', { x: t('small', [4, 10, 5, 5]) }, pastImage)],
  ['CaffeAvgPool past the image (falls back)', (t) => run('CaffeAvgPool', { x: t('small', [4, 10, 5, 5]) }, pastImage)],
  ['CaffeAvgPoolGrad past the image (falls back to the wasm module)', (t) => run('CaffeAvgPoolGrad', { dy: t('smallDiff', [4, 10, 3, 3]) }, { ...pastImage, inputShape: [4, 10, 5, 5] })],
  ['MaxPool of -inf windows (falls back)', (t) => run('MaxPool', { x: t('blocked', [1, 4, 4, 1]) }, { ...pool, pad: 'valid' })],
];

/** Random inputs made once per name ('pooled' is MaxPool's real output of 'planes', 'blocked' all -inf). */
export function leakInputs(): { input: Input; dispose(): void } {
  const made = new Map<string, tf.Tensor>();
  const input: Input = (name, shape) => {
    let t = made.get(name);
    if (!t) {
      if (name === 'pooled') t = run('MaxPool', { x: input('planes', [40, 24, 24, 1]) }, pool);
      else if (name === 'blocked') t = tf.fill(shape, -Infinity);
      else t = tf.randomNormal(shape, 0, 1, 'float32', made.size + 1);
      made.set(name, tf.keep(t)); // made on first use inside a round's tidy: kept for the next rounds
    }
    return t;
  };
  return { input, dispose: () => tf.dispose([...made.values()]) };
}

/** One round: every call once, inside tf.tidy (their results are freed). */
export function leakRound(input: Input): void {
  tf.tidy(() => {
    for (const [, call] of LEAK_CALLS) call(input);
  });
}

/** What must stay flat: tfjs tensors, the wasm backend's buffers, the wasm heap's size, the process's RSS. */
export function leakCounters() {
  const backend = tf.backend() as unknown as { numDataIds(): number; wasm: { HEAPU8: Uint8Array } };
  return { tensors: tf.memory().numTensors, buffers: backend.numDataIds(), heap: backend.wasm.HEAPU8.length, rss: process.memoryUsage().rss };
}
