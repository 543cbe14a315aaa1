// Conv2DBackpropFilter (the filter gradient) on oneDNN's backward-weights convolution; the kernel it
// replaced (kdnet's wasm workaround) takes what oneDNN refuses.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { ConvKind } from './conv-params.js';
import { runConv } from './run-conv.js';
import { addNativeKernel } from './kernel-set.js';

export const conv2dBackpropFilterNative = kernelReplacement('Conv2DBackpropFilter', 'wasm', (args) => {
  const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { x, dy } = args.inputs;
  const call = { kind: ConvKind.BackwardFilter, xShape: x!.shape, filterShape: a.filterShape, strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
  return runConv(args.backend, call, x!, dy!) ?? (conv2dBackpropFilterNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(conv2dBackpropFilterNative);
