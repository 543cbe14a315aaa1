// CaffeAvgPool: Caffe's AVE pooling forward over an NCHW blob (x [N, C, H, W] → [N, C, OH, OW]; attributes:
// CaffePoolAttrs): window sums with zero padding divided by the window clipped to the padded image
// [−pad, size + pad) — tfjs' AvgPool divides by the in-image count, which differs wherever pad > 0.
// On wasm, kdnet's SIMD module over the heap (avg-pool-wasm.ts: Caffe's loop bit for bit, no transposes);
// elsewhere the composite: NHWC window sums (a depthwise convolution with a ones filter; XNNPACK runs it
// 5–10× faster across contiguous channels than on one-channel images) divided by Caffe's divisor map. The
// native kernel (src/backend/native/avg-pool.ts) replaces this one on wasm and falls back to it.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor, kernelOnEveryBackend } from './replace.js';
import { aveDivisors, windowSums, type CaffePoolAttrs, type PoolWindows } from './pool-windows.js';
import { avgPoolByModule } from './avg-pool-wasm.js';

/** Caffe's divisor map as an [OH, OW, 1] tensor (broadcast over NHWC window sums). */
export function divisorTensor(g: PoolWindows): tf.Tensor3D {
  return tf.tensor3d(aveDivisors(g), [g.output[0], g.output[1], 1]);
}

export const caffeAvgPool = kernelOnEveryBackend('CaffeAvgPool', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as CaffePoolAttrs;
  // The module first (on wasm; also the native kernel's fallback), the composite wherever it cannot run.
  const byModule = avgPoolByModule(backend, inputs.x!, a);
  if (byModule) return byModule;
  const x = asTensor<tf.Rank.R4>(inputs.x!);
  const g: PoolWindows = { ...a, input: [x.shape[2], x.shape[3]] };
  return tf.tidy(() => {
    const y = tf.div(windowSums(tf.transpose(x, [0, 2, 3, 1]), g), divisorTensor(g)) as tf.Tensor4D;
    return tf.transpose(y, [0, 3, 1, 2]);
  });
});
