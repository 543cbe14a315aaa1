// MaxPool on oneDNN's max pooling (NHWC, any filter, stride and padding tfjs resolves). Windows with nothing
// above -FLT_MAX (all -inf, or all padding) and what oneDNN refuses go to the kernel this one replaced.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { PoolKind, runPool } from './run-pool.js';
import { addNativeKernel } from './kernel-set.js';

export const maxPoolNative = kernelReplacement('MaxPool', 'wasm', (args) => {
  const a = args.attrs as unknown as tf.MaxPoolAttrs;
  const x = args.inputs.x!;
  const call = { kind: PoolKind.MaxForward, xShape: x.shape, filterSize: a.filterSize, strides: a.strides, pad: a.pad, dimRoundingMode: a.dimRoundingMode };
  return runPool(args.backend, call, x) ?? (maxPoolNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(maxPoolNative);
