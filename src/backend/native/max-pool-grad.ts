// MaxPoolGrad on oneDNN: its training forward (for the workspace of argmaxes, first maximum in scan order)
// and max pooling backward. The gradient goes to each window's first maximum of x, as in Caffe and in
// kdnet's wasm replacement (src/backend/kernels/max-pool-grad.ts); the `output` input is not read (it is
// the maximum of x wherever kdnet calls this kernel). Windows with nothing above -FLT_MAX and what oneDNN
// refuses go to that wasm kernel.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { PoolKind, runPool } from './run-pool.js';
import { addNativeKernel } from './kernel-set.js';

export const maxPoolGradNative = kernelReplacement('MaxPoolGrad', 'wasm', (args) => {
  const a = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const { input: x, dy } = args.inputs;
  const call = { kind: PoolKind.MaxBackward, xShape: x!.shape, filterSize: a.filterSize, strides: a.strides, pad: a.pad, dimRoundingMode: a.dimRoundingMode };
  return runPool(args.backend, call, x!, dy!) ?? (maxPoolGradNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(maxPoolGradNative);
