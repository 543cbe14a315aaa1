// The filter gradient on pure wasm by kdnet's SIMD module (filter-grad-module.ts) over tfjs' heap, on as many
// threads as tfjs' threaded build runs (heap-threads.ts). Output rows are split into parts by the problem's
// size alone and the parts' sums are added in order, so 1 and N threads give bitwise the same result.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor } from './replace.js';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { runCalls } from './heap-threads.js';
import { filterGradModuleBytes, type FilterGradModule } from './filter-grad-module.js';

/** Parts the output rows are split into (at most; one a row when there are fewer). */
const PARTS = 8;
/** Pixels a chunk of output rows should hold: their diffs stay in cache while every tap block passes over them. */
const CHUNK_PIXELS = 128;

/** Whether the module computes this filter gradient (no dilation; KDNET_WASM_KERNELS=0 turns it off). */
export function filterGradModuleApplies(dilation: [number, number]): boolean {
  return dilation[0] === 1 && dilation[1] === 1 && !wasmKernelsDisabled();
}

let workerCalls = 0;
/** How many filter-gradient parts kernel workers have run in this process (for tests: the threads do work). */
export const filterGradWorkerCalls = () => workerCalls;

/** `count` rows of `length` floats from element `from` (rows `fromStride` apart) to `to` (`toStride` apart). */
function copyRows(heap: Float32Array, from: number, fromStride: number, to: number, toStride: number, count: number, length: number): void {
  for (let r = 0; r < count; r++) heap.copyWithin(to + r * toStride, from + r * fromStride, from + r * fromStride + length);
}

/** dW (HWIO) of NHWC x and dy by the module, or undefined when it cannot run here (not tfjs-wasm, no wasm SIMD). */
export function filterGradOnHeap(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], info: tf.backend_util.Conv2DInfo): tf.Tensor4D | undefined {
  const backend = tf.backend();
  const found = heapModule<FilterGradModule>(backend, 'filter-grad', filterGradModuleBytes);
  if (!found) return undefined;
  const { module, heap, compiled } = found;
  const [kh, kw, c, o] = filterShape;
  const [, h, w] = x.shape;
  const { batchSize: n, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // x padded so that every window lies inside (rows and columns up to the last window's end), and the
  // outputs widened to whole vectors (dy's rows and the partial sums' rows: zeros in the extra lanes).
  const hp = Math.max(h + top, (oh - 1) * sh + kh);
  const wp = Math.max(w + left, (ow - 1) * sw + kw);
  const o4 = Math.ceil(o / 4) * 4;
  const rows = n * oh;
  const pixels = rows * ow;
  const taps = kh * kw * c;
  const parts = Math.max(1, Math.min(PARTS, rows));
  const temporaries: tf.TensorInfo[] = [];
  const temporary = (shape: number[]) => {
    const t = heap.makeOutput(shape, 'float32');
    temporaries.push(t);
    return t;
  };
  const padded = hp !== h || wp !== w ? temporary([n, hp, wp, c]) : x;
  const wideDy = o4 !== o ? temporary([pixels, o4]) : dy;
  const partial = temporary([parts, taps * o4]);
  const wideOut = o4 !== o ? temporary([taps, o4]) : undefined;
  const out = heap.makeOutput(filterShape, 'float32');
  try {
    const at = heap.offsetOf;
    const f32 = new Float32Array(heap.memory.buffer);
    const zero = (t: tf.TensorInfo) => f32.fill(0, at(t) / 4, at(t) / 4 + t.shape.reduce((a, b) => a * b, 1));
    if (padded !== x) {
      zero(padded);
      for (let b = 0; b < n; b++) copyRows(f32, at(x) / 4 + b * h * w * c, w * c, at(padded) / 4 + ((b * hp + top) * wp + left) * c, wp * c, h, w * c);
    }
    if (wideDy !== dy) {
      zero(wideDy);
      copyRows(f32, at(dy) / 4, o, at(wideDy) / 4, o4, pixels, o);
    }
    zero(partial);
    const chunk = Math.max(1, Math.ceil(CHUNK_PIXELS / ow));
    const calls = Array.from({ length: rows === 0 ? 0 : parts }, (_, p) => [
      at(padded), at(wideDy), at(partial) + 4 * p * taps * o4,
      Math.floor((p * rows) / parts), Math.floor(((p + 1) * rows) / parts),
      oh, ow, o4, kh, kw * c, sh, sw, c, hp, wp, chunk,
    ]);
    workerCalls += runCalls(heap, { module: compiled, name: 'filterGrad', call: module.filterGrad }, calls);
    module.sumParts(at(partial), at(wideOut ?? out), parts, taps * o4);
    if (wideOut) copyRows(f32, at(wideOut) / 4, o4, at(out) / 4, o, taps, o);
  } finally {
    for (const t of temporaries) heap.dispose(t);
  }
  return asTensor<tf.Rank.R4>(out);
}
