// The filter gradient on pure wasm by kdnet's SIMD module (filter-grad-module.ts) over tfjs' heap, on as many
// threads as tfjs' threaded build runs (heap-threads.ts). Output rows are split into parts by the problem's
// size alone and the parts' sums are added in order, so 1 and N threads give bitwise the same result.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor } from './replace.js';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { runCalls } from './heap-threads.js';
import { HeapScratch, narrowRowsInto, paddedInput, widenedRows } from './conv-heap.js';
import { filterGradModuleBytes, type FilterGradModule } from './filter-grad-module.js';

/** Parts the output rows are split into (at most; one a row when there are fewer). */
const PARTS = 8;
/** Pixels a chunk of output rows should hold: their diffs stay in cache while every tap block passes over them. */
const CHUNK_PIXELS = 128;

/** Whether the module computes this filter gradient (no dilation; KDNET_WASM_KERNELS=0 turns it off). */
export function filterGradModuleApplies(dilation: [number, number]): boolean {
  return dilation[0] === 1 && dilation[1] === 1 && !wasmKernelsDisabled();
}

/** dW (HWIO) of NHWC x and dy by the module, or undefined when it cannot run here (not tfjs-wasm, no wasm SIMD). */
export function filterGradOnHeap(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], info: tf.backend_util.Conv2DInfo): tf.Tensor4D | undefined {
  const found = heapModule<FilterGradModule>(tf.backend(), 'filter-grad', filterGradModuleBytes);
  if (!found) return undefined;
  const { module, heap, compiled } = found;
  const [kh, kw, c, o] = filterShape;
  const { batchSize: n, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  // x padded so that every window lies inside; the outputs widened to whole vectors (dy's rows and the
  // partial sums' rows: zeros in the extra lanes).
  const o4 = Math.ceil(o / 4) * 4;
  const rows = n * oh;
  const pixels = rows * ow;
  const taps = kh * kw * c;
  const parts = Math.max(1, Math.min(PARTS, rows));
  const scratch = new HeapScratch(heap);
  try {
    const { padded, hp, wp } = paddedInput(scratch, x, info);
    const wideDy = widenedRows(scratch, dy, pixels, o, o4);
    const partial = scratch.take([parts, taps * o4], true);
    const wideOut = o4 !== o ? scratch.take([taps, o4]) : undefined;
    const out = heap.makeOutput(filterShape, 'float32');
    const at = heap.offsetOf;
    const chunk = Math.max(1, Math.ceil(CHUNK_PIXELS / ow));
    const calls = Array.from({ length: rows === 0 ? 0 : parts }, (_, p) => [
      at(padded), at(wideDy), at(partial) + 4 * p * taps * o4,
      Math.floor((p * rows) / parts), Math.floor(((p + 1) * rows) / parts),
      oh, ow, o4, kh, kw * c, sh, sw, c, hp, wp, chunk,
    ]);
    runCalls(heap, { module: compiled, name: 'filterGrad', call: module.filterGrad }, calls);
    module.sumParts(at(partial), at(wideOut ?? out), parts, taps * o4);
    if (wideOut) narrowRowsInto(heap, wideOut, out, taps, o4, o);
    return asTensor<tf.Rank.R4>(out);
  } finally {
    scratch.free();
  }
}
