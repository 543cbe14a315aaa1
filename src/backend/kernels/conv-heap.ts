// Layout work on tfjs' heap shared by kdnet's convolution modules (conv.ts, filter-grad.ts): scratch
// tensors freed together, the input padded so every window lies inside, and rows widened to whole vectors.
// Block copies within the heap (copyWithin), no tfjs kernels: tfjs-wasm's PadV2 took 2.5 ms for CIFAR-10
// quick's conv1 input.
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmHeap } from './wasm-heap.js';

/** Heap tensors a kernel allocates for itself; `free()` releases them all. */
export class HeapScratch {
  private readonly items: tf.TensorInfo[] = [];
  constructor(readonly heap: WasmHeap) {}

  /** A float32 scratch tensor, zeroed when asked. */
  take(shape: number[], zeroed = false): tf.TensorInfo {
    const t = this.heap.makeOutput(shape, 'float32');
    this.items.push(t);
    if (zeroed) this.floats(t).fill(0);
    return t;
  }

  /** A float32 tensor's elements as a view of the heap (take it after allocating). */
  floats(t: tf.TensorInfo): Float32Array {
    return new Float32Array(this.heap.buffer(), this.heap.offsetOf(t), t.shape.reduce((a, b) => a * b, 1));
  }

  free(): void {
    for (const t of this.items.splice(0)) this.heap.dispose(t);
  }
}

/** `count` rows of `length` floats from element `from` (rows `fromStride` apart) to `to` (`toStride` apart). */
export function copyRows(heap: Float32Array, from: number, fromStride: number, to: number, toStride: number, count: number, length: number): void {
  for (let r = 0; r < count; r++) heap.copyWithin(to + r * toStride, from + r * fromStride, from + r * fromStride + length);
}

/**
 * NHWC x padded so that every window of `info` lies inside (top/left padding, then rows and columns up to the
 * last window's end), as a zeroed scratch copy; x itself when no padding is needed.
 */
export function paddedInput(scratch: HeapScratch, x: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): { padded: tf.TensorInfo; hp: number; wp: number } {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const { top, left } = info.padInfo;
  const hp = Math.max(h + top, (info.outHeight - 1) * info.strideHeight + info.filterHeight);
  const wp = Math.max(w + left, (info.outWidth - 1) * info.strideWidth + info.filterWidth);
  if (hp === h && wp === w) return { padded: x, hp, wp };
  const padded = scratch.take([n, hp, wp, c], true);
  const heap = new Float32Array(scratch.heap.buffer());
  const from = scratch.heap.offsetOf(x) / 4;
  const to = scratch.heap.offsetOf(padded) / 4;
  for (let b = 0; b < n; b++) copyRows(heap, from + b * h * w * c, w * c, to + ((b * hp + top) * wp + left) * c, wp * c, h, w * c);
  return { padded, hp, wp };
}

/** The first `length` floats of each of `rows` rows of `wide` (rows `wideLength` apart) into `out` ([rows, length]): widenedRows undone. */
export function narrowRowsInto(heap: WasmHeap, wide: tf.TensorInfo, out: tf.TensorInfo, rows: number, wideLength: number, length: number): void {
  copyRows(new Float32Array(heap.buffer()), heap.offsetOf(wide) / 4, wideLength, heap.offsetOf(out) / 4, length, rows, length);
}

/** [rows, length] float32 `t` with its rows widened to `wide` floats (zeros after), or `t` itself when wide = length. */
export function widenedRows(scratch: HeapScratch, t: tf.TensorInfo, rows: number, length: number, wide: number): tf.TensorInfo {
  if (wide === length) return t;
  const out = scratch.take([rows, wide], true);
  copyRows(new Float32Array(scratch.heap.buffer()), scratch.heap.offsetOf(t) / 4, length, scratch.heap.offsetOf(out) / 4, wide, rows, length);
  return out;
}
