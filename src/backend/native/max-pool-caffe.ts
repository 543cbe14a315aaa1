// CaffeMaxPool (src/backend/kernels/max-pool-caffe.ts) on oneDNN's max pooling: the NCHW blob as one image of
// N·C channels, and Caffe's -FLT_MAX floor applied inside the add-on (no extra pass, no fallback for windows
// with nothing above it). What oneDNN refuses goes to the kernel this one replaced.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import type { CaffePoolAttrs } from '../kernels/pool-windows.js';
import { PoolKind, caffePoolPlan, runPlan } from './run-pool.js';
import { addNativeKernel } from './kernel-set.js';

export const caffeMaxPoolNative = kernelReplacement('CaffeMaxPool', 'wasm', (args) => {
  const x = args.inputs.x!;
  const plan = caffePoolPlan(PoolKind.MaxForwardFloor, x.shape, args.attrs as unknown as CaffePoolAttrs);
  return runPlan(args.backend, plan, x) ?? (caffeMaxPoolNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(caffeMaxPoolNative);
