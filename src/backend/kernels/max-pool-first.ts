// Max pooling that knows, for every window, the FIRST maximum in scan order (rows, then columns): the element
// Caffe routes the window's gradient to, and the one tfjs' cpu backend picks. Shared by the wasm replacements
// of MaxPoolGrad and MaxPoolWithArgmax (the shipped ones mishandle tied maxima).
//
// Typed-array loops: tfjs has no first-argmax pooling primitive, and composing one from wasm ops (strided
// slices, stacking, argMax) measured 50–100× slower than these loops on LeNet-sized pools. On wasm the loops
// read and write the wasm heap directly (no copies).
import * as tf from '@tensorflow/tfjs-core';
import { wasmHeapOf } from './wasm-heap.js';

/** A float32 tensor's values as a view of the wasm heap (writable in place), or undefined off the heap. */
export function heapFloats(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array | undefined {
  const v = wasmHeapOf(backend)?.view(info);
  return v instanceof Float32Array ? v : undefined;
}

/** Float values of a kernel input (a view of the wasm heap when possible). */
export function readFloats(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  const heap = wasmHeapOf(backend);
  const v = heap ? heap.view(info) : backend.readSync(info.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * A new kernel output of `shape`, filled by `fill` (given a zeroed array to write into). `inputs` are re-read
 * by the caller inside `fill`: allocation may grow the wasm heap and detach earlier views.
 */
export function makeOutput<T extends Float32Array | Int32Array>(backend: tf.KernelBackend, shape: number[], dtype: 'float32' | 'int32', fill: (out: T) => void): tf.TensorInfo {
  const heap = wasmHeapOf(backend);
  const size = shape.reduce((a, b) => a * b, 1);
  if (heap) {
    const info = heap.makeOutput(shape, dtype);
    const out = heap.view(info) as T;
    out.fill(0);
    fill(out);
    return info;
  }
  const out = (dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)) as T;
  fill(out);
  return { dataId: backend.write(out, shape, dtype), shape, dtype };
}

function firstIn(start: number, step: number): number {
  return start >= 0 ? start : start + Math.ceil(-start / step) * step;
}

/**
 * Flat index of the first maximum (in scan order, above -Infinity) of one window, or -1. The window's
 * elements are x[start + r·rowStep + q·colStep] for r < rows, q < cols. With `m` its maximum (NaN: not
 * known), the scan stops at the first element equal to it (about twice as fast); a window without such an
 * element is scanned in full.
 */
function firstMaxInWindow(x: Float32Array, start: number, rows: number, rowStep: number, cols: number, colStep: number, m: number): number {
  if (m > -Infinity) {
    const end = start + rows * rowStep;
    // The common 2- and 3-wide windows unrolled (measured ≈ 25 % faster than the loop).
    if (cols === 2) {
      for (let i = start; i < end; i += rowStep) {
        if (x[i] === m) return i;
        if (x[i + colStep] === m) return i + colStep;
      }
    } else if (cols === 3) {
      for (let i = start; i < end; i += rowStep) {
        if (x[i] === m) return i;
        if (x[i + colStep] === m) return i + colStep;
        if (x[i + 2 * colStep] === m) return i + 2 * colStep;
      }
    } else {
      const width = cols * colStep;
      for (let row = start; row < end; row += rowStep) for (let i = row; i < row + width; i += colStep) if (x[i] === m) return i;
    }
  }
  let best = -Infinity;
  let at = -1;
  for (let r = 0; r < rows; r++) {
    for (let q = 0, i = start + r * rowStep; q < cols; q++, i += colStep) {
      const v = x[i]!;
      if (v > best) {
        best = v;
        at = i;
      }
    }
  }
  return at;
}

/** Where each window's first maximum goes: its index into `index`, or its diff dy[o] added to dx at it. */
type FirstMaxSink = { index: Int32Array } | { dy: Float32Array; dx: Float32Array };

/** Every window's first maximum (NHWC output order) into `sink`. `maxima`: the pooled values, when known. */
function firstMaxes(x: Float32Array, info: tf.backend_util.Conv2DInfo, maxima: Float32Array | undefined, sink: FirstMaxSink): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { effectiveFilterHeight: eh, effectiveFilterWidth: ew } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // One loop body for both sinks (a callback per window measured 20–40 % slower).
  const index = 'index' in sink ? sink.index : undefined;
  const dy = 'dy' in sink ? sink.dy : new Float32Array(0);
  const dx = 'dx' in sink ? sink.dx : new Float32Array(0);
  // Each column of windows: its first in-image column and how many it covers (per call, not per window).
  const colStart = new Int32Array(ow);
  const colCount = new Int32Array(ow);
  for (let ox = 0; ox < ow; ox++) {
    const ws = ox * sw - left;
    colStart[ox] = firstIn(ws, dw);
    colCount[ox] = Math.max(0, Math.ceil((Math.min(w, ws + ew) - colStart[ox]!) / dw));
  }
  const rowStep = dh * w * c;
  const colStep = dw * c;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const hs = oy * sh - top;
      const r0 = firstIn(hs, dh);
      const rows = Math.max(0, Math.ceil((Math.min(h, hs + eh) - r0) / dh));
      const rowBase = (b * h + r0) * w;
      for (let ox = 0; ox < ow; ox++) {
        const start = (rowBase + colStart[ox]!) * c;
        const cols = colCount[ox]!;
        for (let ch = 0; ch < c; ch++, o++) {
          const i = firstMaxInWindow(x, start + ch, rows, rowStep, cols, colStep, maxima ? maxima[o]! : NaN);
          if (index) index[o] = i;
          else if (i >= 0) dx[i] = dx[i]! + dy[o]!;
        }
      }
    }
  }
}

/** The flat NHWC input index of every window's first maximum (NHWC output order; -1: nothing above -Infinity). */
export function firstMaxIndex(x: Float32Array, info: tf.backend_util.Conv2DInfo): Int32Array {
  const index = new Int32Array(info.batchSize * info.outHeight * info.outWidth * info.inChannels);
  firstMaxes(x, info, undefined, { index });
  return index;
}

/**
 * Caffe's MAX backward in one pass: dx[first maximum of window o] += dy[o]. `maxima` (the pooled values)
 * speeds up the search; windows with nothing above -Infinity send nothing.
 */
export function scatterToFirstMax(x: Float32Array, info: tf.backend_util.Conv2DInfo, maxima: Float32Array | undefined, dy: Float32Array, dx: Float32Array): void {
  firstMaxes(x, info, maxima, { dy, dx });
}
