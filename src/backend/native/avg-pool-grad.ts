// CaffeAvgPoolGrad (src/backend/kernels/avg-pool-caffe-grad.ts) on oneDNN's average pooling backward with
// Caffe's divisor, over N·C one-channel planes. What oneDNN refuses goes to the composite kernel this one
// replaced.
import type * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import type { CaffeAvgPoolGradAttrs } from '../kernels/avg-pool-caffe-grad.js';
import { PoolKind, caffePoolPlan, runPlan } from './run-pool.js';
import { addNativeKernel } from './kernel-set.js';

export const caffeAvgPoolGradNative = kernelReplacement('CaffeAvgPoolGrad', 'wasm', (args) => {
  const a = args.attrs as unknown as CaffeAvgPoolGradAttrs;
  const dy = args.inputs.dy!;
  const plan = caffePoolPlan(PoolKind.AvgBackward, a.inputShape, a);
  return runPlan(args.backend, plan, undefined, dy) ?? (caffeAvgPoolGradNative.original!.kernelFunc(args as never) as tf.TensorInfo);
});

addNativeKernel(caffeAvgPoolGradNative);
