// Shape helpers the layers share. `reshapeTo` skips tfjs' Reshape kernel when the shape is already right:
// a no-op reshape still costs a kernel dispatch and a new tensor (≈ 2–5 µs on wasm), and the hot layers
// make several per pass, which is most of a tiny net's forward at batch 1.
import * as tf from '@tensorflow/tfjs-core';

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `t` viewed as `shape` (same element count); `t` itself when it already has that shape. */
export function reshapeTo<R extends tf.Rank = tf.Rank>(t: tf.Tensor, shape: number[]): tf.Tensor<R> {
  return (sameShape(t.shape, shape) ? t : tf.reshape(t, shape as never)) as tf.Tensor<R>;
}
