// Per-call time of kdnet's wasm SIMD kernels (MaxPoolGrad, CaffeAvgPool and its gradient, Transpose, the
// convolution and the filter gradient) against what they replaced (the JavaScript first-maximum loop; the
// composites of transposes and depthwise convolutions; tfjs-wasm's own Transpose; XNNPACK's convolution, and
// the filter gradient as an im2col matmul or a convolution), on LeNet's and CIFAR-10 quick's shapes:
// `KDNET_NATIVE=0 npx tsx bench/wasm-kernels.ts [REPS]`. CPU time of this process (process.cpuUsage, user +
// system, every thread), which other load on a shared machine inflates less than wall time, and wall time:
// on tfjs' threaded build (OMP_NUM_THREADS > 1, the default) the convolutions run on several threads, so
// their wall time is what a step sees. Build first.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { setLogSink } from '../dist/log.js';

const reps = Number(process.argv[2] ?? 20);
const nhwc = (t: number, b: number, l: number, r: number) => [[0, 0], [t, b], [l, r], [0, 0]];

interface Case {
  name: string;
  run: () => tf.Tensor;
}

function poolGrad(shape: [number, number, number, number], k: number, s: number, pad: unknown): () => tf.Tensor {
  const x = tf.relu(tf.randomUniform(shape, -1, 1)) as tf.Tensor4D;
  const info = tf.backend_util.computePool2DInfo(shape, k, s, 1, pad as never);
  const y = tf.maxPool(x, k, s, pad as never);
  const dy = tf.randomNormal(info.outShape);
  return () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: k, strides: s, pad } as never) as tf.Tensor;
}

/** CaffeAvgPool of an NCHW blob x, or with `grad` CaffeAvgPoolGrad of a top diff (Caffe's CEIL pooled size, pad 0). */
function avePool(x: [number, number, number, number], k: number, s: number, grad: boolean): () => tf.Tensor {
  const output = [2, 3].map((i) => Math.ceil((x[i]! - k) / s) + 1);
  const attrs = { kernel: [k, k], stride: [s, s], pad: [0, 0], output };
  const input = tf.randomNormal(grad ? [x[0], x[1], ...output] : x);
  if (!grad) return () => tf.engine().runKernel('CaffeAvgPool', { x: input }, attrs as never) as tf.Tensor;
  return () => tf.engine().runKernel('CaffeAvgPoolGrad', { dy: input }, { ...attrs, inputShape: x } as never) as tf.Tensor;
}

/** Conv2D, FusedConv2D (with a bias) or Conv2DBackpropFilter of NHWC x [N, H, W, C] with a k×k filter to O outputs, stride 1, padding `pad`. */
function convolution(kind: 'Conv2D' | 'FusedConv2D' | 'Conv2DBackpropFilter', x: [number, number, number, number], k: number, o: number, pad: number): () => tf.Tensor {
  const input = tf.randomNormal(x);
  const filterShape = [k, k, x[3], o];
  const attrs = { strides: 1, pad: nhwc(pad, pad, pad, pad), dataFormat: 'NHWC', dilations: 1, filterShape, activation: 'linear' };
  if (kind === 'Conv2DBackpropFilter') {
    const dy = tf.randomNormal([x[0], x[1] + 2 * pad - k + 1, x[2] + 2 * pad - k + 1, o]);
    return () => tf.engine().runKernel(kind, { x: input, dy }, attrs as never) as tf.Tensor;
  }
  const filter = tf.randomNormal(filterShape);
  const bias = tf.randomNormal([o]);
  return () => tf.engine().runKernel(kind, kind === 'FusedConv2D' ? { x: input, filter, bias } : { x: input, filter }, attrs as never) as tf.Tensor;
}

function transpose(shape: number[], perm: number[]): () => tf.Tensor {
  const x = tf.randomNormal(shape);
  return () => tf.transpose(x, perm);
}

/** CPU and wall milliseconds a call, each the best of three rounds of `reps` calls. */
function timeCalls(run: () => tf.Tensor): { cpu: number; wall: number } {
  run().dispose();
  let cpu = Infinity;
  let wall = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < reps; i++) run().dispose();
    const t = process.cpuUsage(t0);
    wall = Math.min(wall, (performance.now() - w0) / reps);
    cpu = Math.min(cpu, (t.user + t.system) / 1000 / reps);
  }
  return { cpu, wall };
}

async function main(): Promise<void> {
  setLogSink(() => {});
  await initBackend('wasm', true);
  const cases: Case[] = [
    { name: 'MaxPoolGrad LeNet pool1 [1280×24×24×1] 2×2 s2', run: poolGrad([1280, 24, 24, 1], 2, 2, 'valid') },
    { name: 'MaxPoolGrad LeNet pool2 [3200×8×8×1] 2×2 s2', run: poolGrad([3200, 8, 8, 1], 2, 2, 'valid') },
    { name: 'MaxPoolGrad CIFAR pool1 [3200×32×32×1] 3×3 s2', run: poolGrad([3200, 32, 32, 1], 3, 2, nhwc(0, 1, 0, 1)) },
    { name: 'MaxPoolGrad NHWC [100×32×32×32] 3×3 s2', run: poolGrad([100, 32, 32, 32], 3, 2, nhwc(0, 1, 0, 1)) },
    { name: 'CaffeAvgPool CIFAR pool2 [100×32×16×16] 3×3 s2', run: avePool([100, 32, 16, 16], 3, 2, false) },
    { name: 'CaffeAvgPool CIFAR pool3 [100×64×8×8] 3×3 s2', run: avePool([100, 64, 8, 8], 3, 2, false) },
    { name: 'CaffeAvgPoolGrad CIFAR pool2 dy [100×32×8×8] 3×3 s2', run: avePool([100, 32, 16, 16], 3, 2, true) },
    { name: 'CaffeAvgPoolGrad CIFAR pool3 dy [100×64×4×4] 3×3 s2', run: avePool([100, 64, 8, 8], 3, 2, true) },
    { name: 'FusedConv2D CIFAR conv1 [100×32×32×3] 5×5→32', run: convolution('FusedConv2D', [100, 32, 32, 3], 5, 32, 2) },
    { name: 'FusedConv2D CIFAR conv2 [100×16×16×32] 5×5→32', run: convolution('FusedConv2D', [100, 16, 16, 32], 5, 32, 2) },
    { name: 'FusedConv2D CIFAR conv3 [100×8×8×32] 5×5→64', run: convolution('FusedConv2D', [100, 8, 8, 32], 5, 64, 2) },
    { name: 'Conv2D CIFAR conv2 dx [100×16×16×32] 5×5→32', run: convolution('Conv2D', [100, 16, 16, 32], 5, 32, 2) },
    { name: 'FusedConv2D LeNet conv2 [64×12×12×20] 5×5→50', run: convolution('FusedConv2D', [64, 12, 12, 20], 5, 50, 0) },
    { name: 'Conv2D LeNet conv2 dx [64×8×8×50] 5×5→20 pad 4', run: convolution('Conv2D', [64, 8, 8, 50], 5, 20, 4) },
    { name: 'Conv2DBackpropFilter CIFAR conv1 [100×32×32×3]', run: convolution('Conv2DBackpropFilter', [100, 32, 32, 3], 5, 32, 2) },
    { name: 'Conv2DBackpropFilter CIFAR conv2 [100×16×16×32]', run: convolution('Conv2DBackpropFilter', [100, 16, 16, 32], 5, 32, 2) },
    { name: 'Conv2DBackpropFilter CIFAR conv3 [100×8×8×32]', run: convolution('Conv2DBackpropFilter', [100, 8, 8, 32], 5, 64, 2) },
    { name: 'Conv2DBackpropFilter LeNet conv1 [64×28×28×1]', run: convolution('Conv2DBackpropFilter', [64, 28, 28, 1], 5, 20, 0) },
    { name: 'Conv2DBackpropFilter LeNet conv2 [64×12×12×20]', run: convolution('Conv2DBackpropFilter', [64, 12, 12, 20], 5, 50, 0) },
    { name: 'Transpose CIFAR [100×32×32×32] [0,2,3,1]', run: transpose([100, 32, 32, 32], [0, 2, 3, 1]) },
    { name: 'Transpose CIFAR [100×32×32×32] [0,3,1,2]', run: transpose([100, 32, 32, 32], [0, 3, 1, 2]) },
    { name: 'Transpose CIFAR [100×32×32×32] [1,2,0,3]', run: transpose([100, 32, 32, 32], [1, 2, 0, 3]) },
    { name: 'Transpose CIFAR [100×16×16×32] [3,1,2,0]', run: transpose([100, 16, 16, 32], [3, 1, 2, 0]) },
    { name: 'Transpose CIFAR [100×32×16×16] [0,2,3,1]', run: transpose([100, 32, 16, 16], [0, 2, 3, 1]) },
    { name: 'Transpose CIFAR [100×8×8×64] [0,3,1,2]', run: transpose([100, 8, 8, 64], [0, 3, 1, 2]) },
    { name: 'Transpose CIFAR [100×3×32×32] [0,2,3,1]', run: transpose([100, 3, 32, 32], [0, 2, 3, 1]) },
    { name: 'Transpose CIFAR [32×32×5×5] [2,3,1,0]', run: transpose([32, 32, 5, 5], [2, 3, 1, 0]) },
    { name: 'Transpose LeNet [64×20×24×24] [0,2,3,1]', run: transpose([64, 20, 24, 24], [0, 2, 3, 1]) },
    { name: 'Transpose LeNet [64×8×8×50] [0,3,1,2]', run: transpose([64, 8, 8, 50], [0, 3, 1, 2]) },
    { name: 'Transpose LeNet [500×800] [1,0]', run: transpose([500, 800], [1, 0]) },
  ];
  for (const c of cases) {
    process.env.KDNET_WASM_KERNELS = '0';
    const before = timeCalls(c.run);
    delete process.env.KDNET_WASM_KERNELS;
    const after = timeCalls(c.run);
    const ms = (v: number) => `${v.toFixed(3).padStart(8)} ms`;
    console.log(`${c.name.padEnd(56)} CPU before ${ms(before.cpu)} after ${ms(after.cpu)} ×${(before.cpu / after.cpu).toFixed(1)}   wall before ${ms(before.wall)} after ${ms(after.wall)} ×${(before.wall / after.wall).toFixed(1)}`);
  }
}

void main();
