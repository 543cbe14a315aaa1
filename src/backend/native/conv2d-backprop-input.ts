// Conv2DBackpropInput (the input gradient, and Deconvolution's forward) on oneDNN's backward-data
// convolution; the kernel it replaced (kdnet's wasm workaround) takes what oneDNN refuses.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { ConvKind } from './conv-params.js';
import { runConv } from './run-conv.js';
import { addNativeKernel } from './kernel-set.js';

export const conv2dBackpropInputNative = kernelReplacement('Conv2DBackpropInput', 'wasm', (args) => {
  const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const { dy, filter } = args.inputs;
  const call = { kind: ConvKind.BackwardData, xShape: a.inputShape, filterShape: filter!.shape, strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
  return runConv(args.backend, call, dy!, filter!) ?? (conv2dBackpropInputNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(conv2dBackpropInputNative);
