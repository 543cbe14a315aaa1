// Conv2D on oneDNN (JIT AVX2/AVX-512 direct convolution): NHWC or NCHW activations, HWIO filters, any
// stride, padding ('same', 'valid', explicit) and dilation. Geometries oneDNN refuses go to the kernel this
// one replaced.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { ConvKind } from './conv-params.js';
import { runConv } from './run-conv.js';
import { addNativeKernel } from './kernel-set.js';

export const conv2dNative = kernelReplacement('Conv2D', 'wasm', (args) => {
  const a = args.attrs as unknown as tf.Conv2DAttrs;
  const { x, filter } = args.inputs;
  const done = runConv(args.backend, { kind: ConvKind.Forward, xShape: x!.shape, filterShape: filter!.shape, ...a }, x!, filter!);
  return done ?? (conv2dNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(conv2dNative);
