// Small helpers shared by the common layers: Caffe's Blob::CanonicalAxisIndex and count(start, end), the
// layer's parameter sub-message with proto2 defaults, and the "no in-place" check several layers make.
import * as tf from '@tensorflow/tfjs-core';
import { newMessage, type Message } from '../../proto/schema.js';
import type { Layer, Shape } from '../layer.js';

/** Product of shape[start..end) (Caffe's Blob::count(start, end)); 1 for an empty range. */
export function countOf(shape: readonly number[], start = 0, end = shape.length): number {
  let n = 1;
  for (let i = start; i < end; i++) n *= shape[i]!;
  return n;
}

export function shapeText(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Blob::CanonicalAxisIndex: `axis` in [-numAxes, numAxes) becomes a non-negative axis index; anything else is
 * reported as an error of `layer` at `field`.
 */
export function canonicalAxis(layer: Layer, axis: number, shape: Shape, field: string): number {
  const n = shape.length;
  if (!Number.isInteger(axis) || axis < -n || axis >= n) {
    throw layer.error(`axis ${axis} is out of range for a ${n}-D blob of shape ${shapeText(shape)} (valid: ${-n} to ${n - 1})`, field);
  }
  return axis < 0 ? axis + n : axis;
}

/** The layer's `<name>` parameter message, or an empty one (every field at its proto2 default). */
export function paramOf(layer: Layer, field: string, typeName: string): Message {
  return (layer.param[field] as Message | null | undefined) ?? newMessage(typeName);
}

/** Caffe's `CHECK_NE(top[i], bottom[0])` for layers that refuse in-place computation. */
export function rejectInPlace(layer: Layer): void {
  const bottoms = layer.param.bottom as string[];
  const same = (layer.param.top as string[]).find((t) => bottoms.includes(t));
  if (same !== undefined) {
    throw layer.error(`${layer.type} does not allow in-place computation (blob '${same}' is both a bottom and a top): give the top another name`, 'top');
  }
}

export { sameShape } from '../tensor-shape.js';

/**
 * Σ of the rows of `rows` (shape [M, ...]) into `n` rows by `index` (length M): out[index[i]] += rows[i], in
 * row order with float32 accumulation (Caffe's sequential axpy). Runs on the host: wasm has no
 * UnsortedSegmentSum kernel and a one-hot GEMM would be huge for large vocabularies.
 */
export function scatterAddRows(rows: tf.Tensor, index: ArrayLike<number>, n: number): tf.Tensor {
  const m = index.length;
  const inner = m ? rows.size / m : countOf(rows.shape, 1);
  const src = rows.dataSync();
  const out = new Float32Array(n * inner);
  for (let i = 0; i < m; i++) {
    const to = index[i]! * inner;
    const from = i * inner;
    for (let j = 0; j < inner; j++) out[to + j] = out[to + j]! + src[from + j]!;
  }
  return tf.tensor(out, [n, ...rows.shape.slice(1)], 'float32');
}
