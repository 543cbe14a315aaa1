// CaffeAvgPool and CaffeAvgPoolGrad on tfjs-wasm's heap by kdnet's modules (avg-pool-module.ts,
// avg-pool-grad-module.ts): Caffe's AVE loops bit for bit over the NCHW blob's N·C planes, no transposes.
// Each call gets a scratch tensor (Caffe's divisor map, then zeroed rows) freed before it returns. Undefined
// means "not here" (not wasm, no wasm SIMD, KDNET_WASM_KERNELS=0, not float32, an unusable geometry): the
// caller runs its composite.
import type * as tf from '@tensorflow/tfjs-core';
import { heapModule, wasmKernelsDisabled, type WasmHeap } from './wasm-heap.js';
import { HeapScratch } from './conv-heap.js';
import { aveDivisors, type CaffePoolAttrs } from './pool-windows.js';
import { avgPoolFunction, avgPoolModuleBytes, poolScratchRow, type AvgPoolModule } from './avg-pool-module.js';
import { avgPoolGradFunction, avgPoolGradModuleBytes, scratchRows, type AvgPoolGradModule } from './avg-pool-grad-module.js';

type Nchw = [number, number, number, number];

const usable = (a: CaffePoolAttrs, shape: Nchw) =>
  [...shape, ...a.output, ...a.kernel, ...a.stride].every((d) => Number.isInteger(d) && d > 0) && a.pad.every((p) => Number.isInteger(p) && p >= 0);

/**
 * A new output of `shape`, computed by `call` given byte offsets of the output and of the scratch's divisor
 * map (read up to 4 floats past its end) and its `rowFloats` zeros after it.
 */
function withScratch(heap: WasmHeap, shape: number[], divisors: Float32Array, rowFloats: number, call: (out: number, div: number, rows: number) => void): tf.TensorInfo {
  // Allocate both before taking offsets and views (allocating may grow the memory).
  const out = heap.makeOutput(shape, 'float32');
  const mapFloats = divisors.length + 4;
  const scratch = new HeapScratch(heap);
  try {
    const map = scratch.take([mapFloats + rowFloats], true);
    scratch.floats(map).set(divisors);
    const at = heap.offsetOf(map);
    call(heap.offsetOf(out), at, at + 4 * mapFloats);
  } finally {
    scratch.free();
  }
  return out;
}

/** CaffeAvgPool of x [N, C, H, W] by the module, or undefined. */
export function avgPoolByModule(backend: tf.KernelBackend, x: tf.TensorInfo, a: CaffePoolAttrs): tf.TensorInfo | undefined {
  const shape = x.shape as Nchw;
  if (x.dtype !== 'float32' || shape.length !== 4 || !usable(a, shape) || wasmKernelsDisabled()) return undefined;
  const found = heapModule<AvgPoolModule>(backend, 'avg-pool', avgPoolModuleBytes);
  if (!found) return undefined;
  const { module, heap } = found;
  const [n, c, h, w] = shape;
  const [oh, ow] = a.output;
  const rowLength = poolScratchRow(w, ow, a.kernel[1], a.stride[1], a.pad[1]);
  return withScratch(heap, [n, c, oh, ow], aveDivisors({ ...a, input: [h, w] }), h * rowLength, (y, div, rows) => {
    module[avgPoolFunction(a.stride[1], a.kernel[1])]!(heap.offsetOf(x), y, rows, div, n * c, h, w, oh, ow, ...a.kernel, ...a.stride, ...a.pad, rowLength);
  });
}

/** CaffeAvgPoolGrad of dy [N, C, OH, OW] (to x's shape `inputShape`) by the module, or undefined. */
export function avgPoolGradByModule(backend: tf.KernelBackend, dy: tf.TensorInfo, a: CaffePoolAttrs & { inputShape: Nchw }): tf.TensorInfo | undefined {
  const [n, c, h, w] = a.inputShape;
  const [oh, ow] = a.output;
  if (dy.dtype !== 'float32' || dy.shape.join() !== [n, c, oh, ow].join() || !usable(a, a.inputShape) || wasmKernelsDisabled()) return undefined;
  const found = heapModule<AvgPoolGradModule>(backend, 'avg-pool-grad', avgPoolGradModuleBytes);
  if (!found) return undefined;
  const { module, heap } = found;
  const { rowLength, margin } = scratchRows(w, ow, a.kernel[1], a.stride[1], a.pad[1]);
  return withScratch(heap, [n, c, h, w], aveDivisors({ ...a, input: [h, w] }), oh * rowLength, (dx, div, rows) => {
    module[avgPoolGradFunction(a.kernel[1])]!(heap.offsetOf(dy), dx, rows, div, n * c, h, w, oh, ow, ...a.kernel, ...a.stride, ...a.pad, rowLength, margin);
  });
}
