// Per-kernel GFLOP/s of the native kernels against kdnet's pure-wasm kernels on the shapes LeNet (batch 64)
// and the MLP 784-1200-1200-10 (batch 100) run in a training step, in one process: each call is timed with
// the native kernels installed, then with them taken out. Median of `reps` after warm-up.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { kernelSet, nativeKernels } from '../dist/backend/native/kernel-set.js';

interface Op {
  name: string;
  kernel: string;
  inputs: () => Record<string, tf.Tensor>;
  attrs: object;
  flops: number;
}

const rnd = (s: number[]) => tf.randomNormal(s);
const conv = { pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], strides: [1, 1] };

// InnerProduct y = x·Wᵀ (W is [N, K]), dW = dyᵀ·x, dx = dy·W: NT, TN and NN.
function innerProduct(label: string, m: number, k: number, n: number): Op[] {
  const f = 2 * m * k * n;
  return [
    { name: `${label} forward x·Wᵀ ${m}×${k}×${n}`, kernel: 'BatchMatMul', inputs: () => ({ a: rnd([m, k]), b: rnd([n, k]) }), attrs: { transposeA: false, transposeB: true }, flops: f },
    { name: `${label} dW = dyᵀ·x`, kernel: 'BatchMatMul', inputs: () => ({ a: rnd([m, n]), b: rnd([m, k]) }), attrs: { transposeA: true, transposeB: false }, flops: f },
    { name: `${label} dx = dy·W`, kernel: 'BatchMatMul', inputs: () => ({ a: rnd([m, n]), b: rnd([n, k]) }), attrs: { transposeA: false, transposeB: false }, flops: f },
  ];
}

function convolution(label: string, x: number[], f: number[], backData: boolean): Op[] {
  const [n, h, w] = x;
  const [kh, kw, ci, co] = f as [number, number, number, number];
  const y = [n!, h! - kh + 1, w! - kw + 1, co];
  const flops = 2 * y.reduce((a, b) => a * b, 1) * kh * kw * ci;
  const ops: Op[] = [
    { name: `${label} forward ${x.join('×')} * ${f.join('×')}`, kernel: 'Conv2D', inputs: () => ({ x: rnd(x), filter: rnd(f) }), attrs: conv, flops },
    { name: `${label} filter gradient`, kernel: 'Conv2DBackpropFilter', inputs: () => ({ x: rnd(x), dy: rnd(y) }), attrs: { ...conv, filterShape: f }, flops },
  ];
  if (backData) ops.push({ name: `${label} input gradient`, kernel: 'Conv2DBackpropInput', inputs: () => ({ dy: rnd(y), filter: rnd(f) }), attrs: { ...conv, inputShape: x }, flops });
  return ops;
}

const OPS: Op[] = [
  ...convolution('LeNet conv1', [64, 28, 28, 1], [5, 5, 1, 20], false),
  ...convolution('LeNet conv2', [64, 12, 12, 20], [5, 5, 20, 50], true),
  ...innerProduct('LeNet ip1', 64, 800, 500),
  ...innerProduct('LeNet ip2', 64, 500, 10),
  ...innerProduct('MLP ip1', 100, 784, 1200),
  ...innerProduct('MLP ip2', 100, 1200, 1200),
  ...innerProduct('MLP ip3', 100, 1200, 10),
];

function medianMs(f: () => void, reps: number): number {
  for (let i = 0; i < 3; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

export async function benchKernels(reps = 30): Promise<void> {
  await initBackend('wasm', true);
  const set = kernelSet();
  console.log(`kernels: ${set.description}`);
  const native = nativeKernels().filter((k) => k.installed);
  if (!native.length) {
    console.log('kernels: the native add-on is not active, nothing to compare');
    return;
  }
  console.log(`${'op'.padEnd(46)} ${'native ms'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'wasm ms'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'speed-up'.padStart(9)}`);
  for (const op of OPS) {
    const inputs = op.inputs();
    const call = () => tf.dispose(tf.engine().runKernel(op.kernel, inputs, op.attrs as tf.NamedAttrMap) as tf.Tensor);
    const tn = medianMs(call, reps);
    for (const k of native) k.uninstall();
    const tw = medianMs(call, Math.max(5, Math.floor(reps / 3)));
    for (const k of native) k.install();
    tf.dispose(Object.values(inputs));
    const gf = (ms: number) => (op.flops / ms / 1e6).toFixed(1);
    console.log(`${op.name.padEnd(46)} ${tn.toFixed(3).padStart(10)} ${gf(tn).padStart(8)} ${tw.toFixed(3).padStart(10)} ${gf(tw).padStart(8)} ${`×${(tw / tn).toFixed(1)}`.padStart(9)}`);
  }
}
