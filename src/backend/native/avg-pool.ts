// CaffeAvgPool (src/backend/kernels/avg-pool-caffe.ts) on oneDNN's average pooling with Caffe's divisor (the
// window clipped to the padded image; native/src/pool.cc says how), the NCHW blob as one image of N·C
// channels: no transposes. What oneDNN refuses (windows wholly past an unpadded image) goes to the composite
// kernel this one replaced.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import type { CaffePoolAttrs } from '../kernels/pool-windows.js';
import { PoolKind, caffePoolPlan, runPlan } from './run-pool.js';
import { addNativeKernel } from './kernel-set.js';

export const caffeAvgPoolNative = kernelReplacement('CaffeAvgPool', 'wasm', (args) => {
  const x = args.inputs.x!;
  const plan = caffePoolPlan(PoolKind.AvgForward, x.shape, args.attrs as unknown as CaffePoolAttrs);
  return runPlan(args.backend, plan, x) ?? (caffeAvgPoolNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(caffeAvgPoolNative);
