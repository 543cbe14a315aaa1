// A filter rotated by 180° in space (filter[kh−1−i, kw−1−j] at [i, j]), as the input gradients' convolutions
// need it: the kh·kw blocks of I·O contiguous values in reverse order, one block copy each. tfjs' Reverse
// kernel took 1–2 ms for LeNet's and CIFAR-10 quick's 5×5 filters on wasm (≈ 40 ns an element).
import * as tf from '@tensorflow/tfjs-core';
import { makeOutput, readFloats } from './max-pool-first.js';

/** `filter` [kh, kw, I, O] (float32) with its taps in reverse order (both spatial axes flipped). */
export function flipTaps(filter: tf.Tensor4D): tf.Tensor4D {
  const backend = tf.backend();
  const [kh, kw, i, o] = filter.shape;
  const taps = kh * kw;
  const block = i * o;
  const info = makeOutput<Float32Array>(backend, filter.shape, 'float32', (out) => {
    const src = readFloats(backend, filter);
    for (let t = 0; t < taps; t++) out.set(src.subarray(t * block, (t + 1) * block), (taps - 1 - t) * block);
  });
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
}
