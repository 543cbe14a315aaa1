// CaffeAvgPoolGrad: the gradient of CaffeAvgPool (dy [N, C, OH, OW] → dx [N, C, H, W]; attributes:
// CaffePoolAttrs and inputShape, x's NCHW shape): each window's diff / Caffe's divisor, summed into every
// input element the window covers (Caffe's Backward_cpu). On wasm, kdnet's SIMD module over the heap
// (avg-pool-wasm.ts: Caffe's loop bit for bit, no transposes); elsewhere the composite: the transposed
// depthwise convolution of the NHWC diffs. The native kernel (src/backend/native/avg-pool-grad.ts) replaces
// this one on wasm and falls back to it.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor, kernelOnEveryBackend } from './replace.js';
import { windowSumsBackward, type CaffePoolAttrs, type PoolWindows } from './pool-windows.js';
import { divisorTensor } from './avg-pool-caffe.js';
import { avgPoolGradByModule } from './avg-pool-wasm.js';

export interface CaffeAvgPoolGradAttrs extends CaffePoolAttrs {
  inputShape: [number, number, number, number];
}

export const caffeAvgPoolGrad = kernelOnEveryBackend('CaffeAvgPoolGrad', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as CaffeAvgPoolGradAttrs;
  // The module first (on wasm; also the native kernel's fallback), the composite wherever it cannot run.
  const byModule = avgPoolGradByModule(backend, inputs.dy!, a);
  if (byModule) return byModule;
  const [n, c, h, w] = a.inputShape;
  const g: PoolWindows = { ...a, input: [h, w] };
  const dy = asTensor<tf.Rank.R4>(inputs.dy!);
  return tf.tidy(() => {
    const scaled = tf.div(tf.transpose(dy, [0, 2, 3, 1]), divisorTensor(g)) as tf.Tensor4D;
    return tf.transpose(windowSumsBackward(scaled, [n, h, w, c], g), [0, 3, 1, 2]);
  });
});
