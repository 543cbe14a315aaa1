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

/** Whether the module computes this filter gradient (outputs a multiple of 4, no dilation). */
export function filterGradModuleApplies(filterShape: readonly number[], dilation: [number, number]): boolean {
  return filterShape[3]! % 4 === 0 && dilation[0] === 1 && dilation[1] === 1 && !wasmKernelsDisabled();
}

let workerCalls = 0;
/** How many filter-gradient parts kernel workers have run in this process (for tests: the threads do work). */
export const filterGradWorkerCalls = () => workerCalls;

/** NHWC x (at element `from` of the heap) into a zeroed [N, hp, wp, C] at `to`, its top-left corner at (top, left). */
function padInto(heap: Float32Array, from: number, [n, h, w, c]: number[], to: number, [hp, wp]: [number, number], [top, left]: [number, number]): void {
  const rowLength = w! * c!;
  heap.fill(0, to, to + n! * hp * wp * c!);
  for (let b = 0; b < n!; b++) {
    for (let y = 0; y < h!; y++) {
      const src = from + (b * h! + y) * rowLength;
      heap.copyWithin(to + ((b * hp + y + top) * wp + left) * c!, src, src + rowLength);
    }
  }
}

/** dW (HWIO) of NHWC x and dy by the module, or undefined when it cannot run here (not tfjs-wasm, no wasm SIMD). */
export function filterGradOnHeap(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], info: tf.backend_util.Conv2DInfo): tf.Tensor4D | undefined {
  const backend = tf.backend();
  const found = heapModule<FilterGradModule>(backend, 'filter-grad', filterGradModuleBytes);
  if (!found) return undefined;
  const { module, heap, compiled } = found;
  const [kh, kw, c, o] = filterShape;
  const { batchSize: n, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Pad so that every window lies inside: rows and columns up to the last window's end.
  const hp = Math.max(x.shape[1] + top, (oh - 1) * sh + kh);
  const wp = Math.max(x.shape[2] + left, (ow - 1) * sw + kw);
  const needsPad = hp !== x.shape[1] || wp !== x.shape[2];
  const padded = needsPad ? heap.makeOutput([n, hp, wp, c], 'float32') : x;
  const rows = n * oh;
  const len = kh * kw * c * o;
  const parts = Math.max(1, Math.min(PARTS, rows));
  const partial = heap.makeOutput([parts, len], 'float32');
  const out = heap.makeOutput(filterShape, 'float32');
  try {
    const at = heap.offsetOf;
    if (needsPad) padInto(new Float32Array(heap.memory.buffer), at(x) / 4, x.shape, at(padded) / 4, [hp, wp], [top, left]);
    new Float32Array(heap.memory.buffer, at(partial), parts * len).fill(0);
    const chunk = Math.max(1, Math.ceil(CHUNK_PIXELS / ow));
    const calls = Array.from({ length: rows === 0 ? 0 : parts }, (_, p) => [
      at(padded), at(dy), at(partial) + 4 * p * len,
      Math.floor((p * rows) / parts), Math.floor(((p + 1) * rows) / parts),
      oh, ow, o, kh, kw * c, sh, sw, c, hp, wp, chunk,
    ]);
    workerCalls += runCalls(heap, { module: compiled, name: 'filterGrad', call: module.filterGrad }, calls);
    module.sumParts(at(partial), at(out), parts, len);
  } finally {
    backend.disposeData(partial.dataId);
    if (needsPad) backend.disposeData(padded.dataId);
  }
  return asTensor<tf.Rank.R4>(out);
}
