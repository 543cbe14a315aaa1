// A plain matrix product C = A·B ([M, K]·[K, N], batch 1) on pure wasm by kdnet's convolution module as a
// 1×1 convolution: A's rows are the pixels (four to an output row), B the filter. Calls split the columns
// into slabs small enough for B's slab to stay in cache while every row of A passes; each output is summed by
// one call in one order, so 1 and N threads give bitwise the same result. XNNPACK repacks B on every call
// (the weights change every step), which made the MLP's matrix products 35–60 GFLOP/s on two threads.
import type * as tf from '@tensorflow/tfjs-core';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { runCalls, MAX_CALLS } from './heap-threads.js';
import { HeapScratch, narrowRowsInto, widenedRows } from './conv-heap.js';
import { convModuleBytes, type ConvModule } from './conv-module.js';

/** Outputs a call computes (at least; more when that would make too many calls). */
const SLAB = 32;

const batchOf = (t: tf.TensorInfo) => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);

/** A·B by the module, or undefined when it cannot run here (not tfjs-wasm, no wasm SIMD, not float32, batch > 1). */
export function gemmOnHeap(backend: tf.KernelBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  const rank = a.shape.length;
  if (wasmKernelsDisabled() || a.dtype !== 'float32' || b.dtype !== 'float32' || rank < 2 || b.shape.length !== rank || batchOf(a) !== 1 || batchOf(b) !== 1) return undefined;
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[rank - 1]!;
  if (b.shape[rank - 2] !== k || m * k * n === 0) return undefined;
  const found = heapModule<ConvModule>(backend, 'conv', convModuleBytes);
  if (!found) return undefined;
  const { module, heap, compiled } = found;
  const n4 = Math.ceil(n / 4) * 4;
  // B's and the output's rows: whole vectors, and skewed by one vector when a whole number of KiB long (the
  // taps of one output block would otherwise fall into a few cache sets: 1024 columns ran at 40 % speed).
  const stride = n4 % 256 === 0 ? n4 + 4 : n4;
  const scratch = new HeapScratch(heap);
  try {
    const wideB = widenedRows(scratch, b, k, n, stride);
    const bias = scratch.take([stride], true);
    const out = heap.makeOutput([...a.shape.slice(0, -2), m, n], 'float32');
    const wideOut = stride !== n ? scratch.take([m, stride]) : out;
    const at = heap.offsetOf;
    // Rows four to an output row, then the rest as one row; columns in slabs.
    const m4 = m - (m % 4);
    const slab = Math.max(SLAB, Math.ceil(n4 / (MAX_CALLS / 2) / 4) * 4);
    const calls: number[][] = [];
    for (let o = 0; o < n4; o += slab) {
      const end = Math.min(n4, o + slab);
      if (m4 > 0) calls.push([at(a), at(wideB), at(bias), at(wideOut), 0, m4 / 4, o, end, m4 / 4, 4, stride, 1, k, 1, 1, k, m4 / 4, 4]);
      if (m > m4) calls.push([at(a) + 4 * m4 * k, at(wideB), at(bias), at(wideOut) + 4 * m4 * stride, 0, 1, o, end, 1, m - m4, stride, 1, k, 1, 1, k, 1, m - m4]);
    }
    runCalls(heap, { module: compiled, name: 'conv', call: module.conv }, calls);
    if (wideOut !== out) narrowRowsInto(heap, wideOut, out, m, stride, n);
    return out;
  } finally {
    scratch.free();
  }
}
