// Convolution and InnerProduct on the native kernels in Caffe's layouts (KdnetConvolution*, KdnetGemm) against
// the same layers on pure wasm (tfjs' NHWC kernels between transposes, tf.matMul): forward, bottom diff,
// weight and bias diffs over strides, padding, dilation, groups, 1-D convolution, no bias, and InnerProduct
// with `transpose`, a 4-D bottom and axis 2. Each case checks that the native kernel really ran.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/select.js';
import { Net } from '../../../src/net/net.js';
import { Phase } from '../../../src/net/net-state.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { expectClose, nativeBuilt, normal, onPureWasm } from './support.js';

interface Result {
  top: tf.Tensor;
  bottomDiff: tf.Tensor;
  paramDiffs: tf.Tensor[];
  kernels: string[];
}

/** One layer fed `x`, its top's diff seeded by `dy`; forward + backward. */
function runLayer(layer: string, x: tf.Tensor, dy: (shape: number[]) => tf.Tensor): Result {
  const net = new Net(
    parseCaffeText(`force_backward: true\nlayer { name: "x" type: "Input" top: "x" input_param { shape { ${x.shape.map((d) => `dim: ${d}`).join(' ')} } } }\nlayer { name: "l" ${layer} bottom: "x" top: "y" }`, 'NetParameter').message,
    { phase: Phase.TRAIN, seed: 5 },
  );
  net.setInput('x', x.clone());
  const engine = tf.engine();
  const runKernel = engine.runKernel;
  const kernels: string[] = [];
  const spy = vi.spyOn(engine, 'runKernel').mockImplementation(function (this: unknown, name: string, ...rest: unknown[]) {
    kernels.push(name);
    return (runKernel as (...a: unknown[]) => unknown).call(engine, name, ...rest) as never;
  });
  try {
    net.forward();
    net.setTopDiff('y', dy(net.blob('y').shape));
    net.backward();
  } finally {
    spy.mockRestore();
  }
  const result = {
    top: net.blob('y').clone(),
    bottomDiff: net.blobDiff('x')!.clone(),
    paramDiffs: net.layer('l').blobs.map((_, i) => net.paramDiff('l', i)!.clone()),
    kernels,
  };
  net.dispose();
  return result;
}

function compare(layer: string, xShape: number[], nativeKernels: string[]): void {
  const x = normal(xShape);
  let seed: tf.Tensor | undefined;
  const dy = (shape: number[]) => (seed ??= normal(shape)).clone();
  const native = runLayer(layer, x, dy);
  for (const k of nativeKernels) expect(native.kernels).toContain(k);
  const wasm = onPureWasm(() => runLayer(layer, x, dy));
  expect(wasm.kernels.some((k) => k.startsWith('Kdnet'))).toBe(false);
  expectClose(native.top, wasm.top);
  expectClose(native.bottomDiff, wasm.bottomDiff);
  expect(native.paramDiffs.length).toBe(wasm.paramDiffs.length);
  native.paramDiffs.forEach((d, i) => expectClose(d, wasm.paramDiffs[i]!));
  tf.dispose([x, seed!, native.top, native.bottomDiff, ...native.paramDiffs, wasm.top, wasm.bottomDiff, ...wasm.paramDiffs]);
}

const CONV = ['KdnetConvolution', 'KdnetConvolutionBackpropInput', 'KdnetConvolutionBackpropFilter'];
const filler = 'weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.5 }';

describe.skipIf(!nativeBuilt)('Caffe-layout native kernels (Convolution, InnerProduct)', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  const convCases: Array<[string, string, number[]]> = [
    ['LeNet conv1 (one input channel)', 'num_output: 20 kernel_size: 5', [2, 1, 28, 28]],
    ['3×3 pad 1 stride 2', 'num_output: 8 kernel_size: 3 pad: 1 stride: 2', [3, 5, 11, 9]],
    ['rectangular kernel, pad_h/pad_w', 'num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 2 pad_w: 0 stride_h: 1 stride_w: 2', [2, 3, 7, 8]],
    ['dilation 2', 'num_output: 6 kernel_size: 3 dilation: 2 pad: 2', [1, 4, 10, 10]],
    ['groups 2', 'num_output: 6 kernel_size: 3 group: 2', [2, 4, 8, 8]],
    ['depthwise (group = channels)', 'num_output: 8 kernel_size: 3 pad: 1 group: 8', [2, 8, 6, 6]],
    ['no bias', 'num_output: 5 kernel_size: 2 bias_term: false', [2, 3, 6, 6]],
  ];
  for (const [name, param, shape] of convCases) {
    it(`Convolution: ${name}`, () => {
      compare(`type: "Convolution" convolution_param { ${param} ${filler} }`, shape, CONV);
    });
  }

  it('Convolution: 1-D (N, C, L) runs as 2-D with a unit height', () => {
    compare(`type: "Convolution" convolution_param { num_output: 4 kernel_size: 3 pad: 1 ${filler} }`, [2, 3, 12], CONV);
  });

  const ipCases: Array<[string, string, number[]]> = [
    ['4-D bottom (LeNet ip1 at batch 3)', 'num_output: 7', [3, 5, 4, 4]],
    ['batch 1', 'num_output: 10', [1, 30]],
    ['transpose: true', 'num_output: 6 transpose: true', [4, 9]],
    ['axis 2', 'num_output: 3 axis: 2', [2, 3, 5]],
    ['no bias', 'num_output: 4 bias_term: false', [5, 6]],
  ];
  for (const [name, param, shape] of ipCases) {
    it(`InnerProduct: ${name}`, () => {
      compare(`type: "InnerProduct" inner_product_param { ${param} ${filler} }`, shape, ['KdnetGemm']);
    });
  }
});
