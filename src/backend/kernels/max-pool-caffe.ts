// CaffeMaxPool: Caffe's MAX pooling forward over an NCHW blob (x [N, C, H, W] → [N, C, OH, OW]; attributes:
// CaffePoolAttrs). Caffe's running maximum starts at -FLT_MAX, so a window with nothing above it (all -inf,
// or no element inside the image) gives -FLT_MAX, where tfjs' MaxPool gives -inf or, on wasm (XNNPACK), an
// arbitrary value for a window wholly in the padding.
//
// The blob is pooled as N·C one-channel images (a free reshape; measured faster on wasm than NHWC between two
// transposes) by tfjs' MaxPool over the windows that hold an image element, then floored: on wasm in place
// in one pass over the output (a broadcast tf.maximum cost 3–4× the pooling itself), elsewhere with tensor
// ops; windows past the image are filled with -FLT_MAX. The native kernel (src/backend/native/
// max-pool-caffe.ts) floors inside the add-on and falls back to this one.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor, kernelOnEveryBackend } from './replace.js';
import { heapFloats } from './max-pool-first.js';
import { explicitPad, fillEmptyWindows, liveWindows, type CaffePoolAttrs, type PoolWindows } from './pool-windows.js';

export const FLT_MAX = 3.4028234663852886e38;

/** Sets to -FLT_MAX every value below it (-inf: windows with nothing else). */
function floorInPlace(y: Float32Array): void {
  for (let i = 0; i < y.length; i++) if (y[i]! < -FLT_MAX) y[i] = -FLT_MAX;
}

export const caffeMaxPool = kernelOnEveryBackend('CaffeMaxPool', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as CaffePoolAttrs;
  const x = asTensor<tf.Rank.R4>(inputs.x!);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const g: PoolWindows = { ...a, input: [h, w] };
  const live = liveWindows(g) ?? g;
  return tf.tidy(() => {
    let y = tf.maxPool(tf.reshape(x, [n * c, h, w, 1]) as tf.Tensor4D, live.kernel, live.stride, explicitPad(live));
    // In place only into a fresh output (a 1×1 pooling could hand back its input's data).
    const heap = y.dataId !== x.dataId ? heapFloats(backend, y) : undefined;
    if (heap) floorInPlace(heap);
    else y = tf.maximum(y, -FLT_MAX);
    if (live !== g) y = fillEmptyWindows(y, g, -FLT_MAX);
    return tf.reshape(y, [n, c, ...g.output]);
  });
});
