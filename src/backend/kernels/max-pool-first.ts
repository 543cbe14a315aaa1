// Max pooling that knows, for every window, the FIRST maximum in scan order (rows, then columns): the element
// Caffe routes the window's gradient to, and the one tfjs' cpu backend picks. Shared by the wasm replacements
// of MaxPoolGrad and MaxPoolWithArgmax (the shipped ones mishandle tied maxima).
//
// Typed-array loops: tfjs has no first-argmax pooling primitive, and composing one from wasm ops (strided
// slices, stacking, argMax) measured 50–100× slower than these loops on LeNet-sized pools. On wasm the loops
// read and write the wasm heap directly (no copies).
import * as tf from '@tensorflow/tfjs-core';

/** The wasm backend's heap access (absent on other backends). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const heapOf = (backend: tf.KernelBackend): HeapBackend | undefined => {
  const b = backend as unknown as Partial<HeapBackend>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function' ? (b as HeapBackend) : undefined;
};

/** A float32 tensor's values as a view of the wasm heap (writable in place), or undefined off the heap. */
export function heapFloats(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array | undefined {
  const v = heapOf(backend)?.typedArrayFromHeap(info);
  return v instanceof Float32Array ? v : undefined;
}

/** Float values of a kernel input (a view of the wasm heap when possible). */
export function readFloats(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  const heap = heapOf(backend);
  const v = heap ? heap.typedArrayFromHeap(info) : backend.readSync(info.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * A new kernel output of `shape`, filled by `fill` (given a zeroed array to write into). `inputs` are re-read
 * by the caller inside `fill`: allocation may grow the wasm heap and detach earlier views.
 */
export function makeOutput<T extends Float32Array | Int32Array>(backend: tf.KernelBackend, shape: number[], dtype: 'float32' | 'int32', fill: (out: T) => void): tf.TensorInfo {
  const heap = heapOf(backend);
  const size = shape.reduce((a, b) => a * b, 1);
  if (heap) {
    const info = heap.makeOutput(shape, dtype);
    const out = heap.typedArrayFromHeap(info) as T;
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
 * The flat NHWC input index of every window's first maximum (NHWC output order; -1 when no element exceeds
 * -Infinity). With `maxima` (the pooled values), a window is scanned only up to the first element equal to
 * its maximum (about twice as fast); a window without such an element is scanned in full.
 */
export function firstMaxIndex(x: Float32Array, info: tf.backend_util.Conv2DInfo, maxima?: Float32Array): Int32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { effectiveFilterHeight: eh, effectiveFilterWidth: ew } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const index = new Int32Array(n * oh * ow * c);
  const colMin = new Int32Array(ow);
  const colMax = new Int32Array(ow);
  for (let ox = 0; ox < ow; ox++) {
    const ws = ox * sw - left;
    colMin[ox] = firstIn(ws, dw);
    colMax[ox] = Math.min(w, ws + ew);
  }
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const hs = oy * sh - top;
      const rMin = firstIn(hs, dh);
      const rMax = Math.min(h, hs + eh);
      for (let ox = 0; ox < ow; ox++) {
        const cMin = colMin[ox]!;
        const cMax = colMax[ox]!;
        for (let ch = 0; ch < c; ch++) {
          const o = ((b * oh + oy) * ow + ox) * c + ch;
          let at = -1;
          if (maxima) {
            const m = maxima[o]!;
            if (m > -Infinity) {
              search: for (let r = rMin; r < rMax; r += dh) {
                const row = (b * h + r) * w;
                for (let col = cMin; col < cMax; col += dw) {
                  const i = (row + col) * c + ch;
                  if (x[i] === m) {
                    at = i;
                    break search;
                  }
                }
              }
            }
            if (at >= 0) {
              index[o] = at;
              continue;
            }
          }
          let best = -Infinity;
          for (let r = rMin; r < rMax; r += dh) {
            const row = (b * h + r) * w;
            for (let col = cMin; col < cMax; col += dw) {
              const i = (row + col) * c + ch;
              const v = x[i]!;
              if (v > best) {
                best = v;
                at = i;
              }
            }
          }
          index[o] = at;
        }
      }
    }
  }
  return index;
}
