// CaffeAvgPoolGrad: the gradient of CaffeAvgPool (dy [N, C, OH, OW] → dx [N, C, H, W]; attributes:
// CaffePoolAttrs and inputShape, x's NCHW shape): each window's diff / Caffe's divisor, summed into every
// input element the window covers (Caffe's Backward_cpu). Composite, on any backend: the transposed
// depthwise convolution of the NHWC diffs. The native kernel (src/backend/native/avg-pool-grad.ts) replaces it
// on wasm and falls back to it.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor, kernelOnEveryBackend } from './replace.js';
import { windowSumsBackward, type CaffePoolAttrs, type PoolWindows } from './pool-windows.js';
import { divisorTensor } from './avg-pool-caffe.js';

export interface CaffeAvgPoolGradAttrs extends CaffePoolAttrs {
  inputShape: [number, number, number, number];
}

export const caffeAvgPoolGrad = kernelOnEveryBackend('CaffeAvgPoolGrad', ({ inputs, attrs }) => {
  const a = attrs as unknown as CaffeAvgPoolGradAttrs;
  const [n, c, h, w] = a.inputShape;
  const g: PoolWindows = { ...a, input: [h, w] };
  const dy = asTensor<tf.Rank.R4>(inputs.dy!);
  return tf.tidy(() => {
    const scaled = tf.div(tf.transpose(dy, [0, 2, 3, 1]), divisorTensor(g)) as tf.Tensor4D;
    return tf.transpose(windowSumsBackward(scaled, [n, h, w, c], g), [0, 3, 1, 2]);
  });
});
