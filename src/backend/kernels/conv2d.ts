// Conv2D and FusedConv2D for wasm. NHWC without dilation (every convolution kdnet's layers make, and the input
// gradient's) goes to kdnet's SIMD module (conv.ts), FusedConv2D only with a bias and no activation. The rest
// goes to the shipped kernels, except that the shipped Conv2D rejects dataFormat NCHW ("does not support
// dataFormat:'channelsFirst'"): that runs as NHWC between two transposes.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement, nhwcPad } from './replace.js';
import { convModuleApplies, convOnHeap } from './conv.js';

const convInfo = (x: tf.TensorInfo, filter: tf.TensorInfo, a: tf.Conv2DAttrs) =>
  tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], a.strides, a.dilations, a.pad, a.dimRoundingMode, false, 'channelsLast');

export const conv2dWasm = kernelReplacement('Conv2D', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.Conv2DAttrs;
  const original = conv2dWasm.original!;
  if (a.dataFormat !== 'NCHW') {
    const byModule = convModuleApplies(a.dataFormat, a.dilations) ? convOnHeap(backend, inputs.x!, inputs.filter!, undefined, convInfo(inputs.x!, inputs.filter!, a)) : undefined;
    return byModule ?? (original.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo);
  }
  return tf.tidy(() => {
    const x = tf.transpose(asTensor(inputs.x!), [0, 2, 3, 1]);
    const y = tf.engine().runKernel('Conv2D', { x, filter: inputs.filter! as tf.Tensor }, { ...attrs, pad: nhwcPad(a.pad) as never, dataFormat: 'NHWC' }) as tf.Tensor;
    return tf.transpose(y, [0, 3, 1, 2]);
  });
});

export const fusedConv2dWasm = kernelReplacement('FusedConv2D', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.FusedConv2DAttrs;
  const linear = (a.activation ?? 'linear') === 'linear' && !inputs.preluActivationWeights;
  const byModule = linear && convModuleApplies(a.dataFormat, a.dilations) ? convOnHeap(backend, inputs.x!, inputs.filter!, inputs.bias, convInfo(inputs.x!, inputs.filter!, a)) : undefined;
  return byModule ?? (fusedConv2dWasm.original!.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo);
});

addWorkaround('wasm', () => {
  conv2dWasm.install();
  fusedConv2dWasm.install();
});
