// CaffeAvgPoolGrad: the gradient of CaffeAvgPool (dy [N, C, OH, OW] → dx [N, C, H, W]; attributes:
// CaffePoolAttrs and inputShape, x's NCHW shape): each window's diff / Caffe's divisor, summed into every
// input element the window covers (Caffe's Backward_cpu). On wasm, kdnet's SIMD module over the heap
// (avg-pool-grad-module.ts: Caffe's loop bit for bit, no transposes); elsewhere the composite: the transposed
// depthwise convolution of the NHWC diffs. The native kernel (src/backend/native/avg-pool-grad.ts) replaces
// this one on wasm and falls back to it.
import * as tf from '@tensorflow/tfjs-core';
import { asTensor, kernelOnEveryBackend } from './replace.js';
import { aveDivisors, windowSumsBackward, type CaffePoolAttrs, type PoolWindows } from './pool-windows.js';
import { divisorTensor } from './avg-pool-caffe.js';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { avgPoolGradFunction, avgPoolGradModuleBytes, scratchRows, type AvgPoolGradModule } from './avg-pool-grad-module.js';

export interface CaffeAvgPoolGradAttrs extends CaffePoolAttrs {
  inputShape: [number, number, number, number];
}

/** dx by the wasm module, or undefined when it cannot run here (not wasm, no wasm SIMD, KDNET_WASM_KERNELS=0). */
export function avgPoolGradByModule(backend: tf.KernelBackend, dy: tf.TensorInfo, a: CaffeAvgPoolGradAttrs): tf.TensorInfo | undefined {
  const [n, c, h, w] = a.inputShape;
  const [oh, ow] = a.output;
  const dims = [n, c, h, w, oh, ow, ...a.kernel, ...a.stride];
  if (dy.dtype !== 'float32' || dy.shape.join() !== [n, c, oh, ow].join() || !dims.every((d) => Number.isInteger(d) && d > 0) || !a.pad.every((p) => Number.isInteger(p) && p >= 0)) return undefined;
  const found = wasmKernelsDisabled() ? undefined : heapModule<AvgPoolGradModule>(backend, 'avg-pool-grad', avgPoolGradModuleBytes);
  if (!found) return undefined;
  const { module, heap } = found;
  const { rowLength, margin } = scratchRows(w, ow, a.kernel[1], a.stride[1], a.pad[1]);
  const divisors = aveDivisors({ ...a, input: [h, w] });
  // Allocate both before taking offsets and views (allocating may grow the memory).
  const dx = heap.makeOutput([n, c, h, w], 'float32');
  const scratch = heap.makeOutput([divisors.length + oh * rowLength], 'float32');
  try {
    const view = new Float32Array(heap.memory.buffer, heap.offsetOf(scratch), divisors.length + oh * rowLength);
    view.set(divisors);
    view.fill(0, divisors.length);
    const rows = heap.offsetOf(scratch) + 4 * divisors.length;
    module[avgPoolGradFunction(a.kernel[1])]!(heap.offsetOf(dy), heap.offsetOf(dx), rows, heap.offsetOf(scratch), n * c, h, w, oh, ow, ...a.kernel, ...a.stride, ...a.pad, rowLength, margin);
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return dx;
}

export const caffeAvgPoolGrad = kernelOnEveryBackend('CaffeAvgPoolGrad', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as CaffeAvgPoolGradAttrs;
  // The module first (on wasm; also the native kernel's fallback), the composite wherever it cannot run.
  const byModule = avgPoolGradByModule(backend, inputs.dy!, a);
  if (byModule) return byModule;
  const [n, c, h, w] = a.inputShape;
  const g: PoolWindows = { ...a, input: [h, w] };
  const dy = asTensor<tf.Rank.R4>(inputs.dy!);
  return tf.tidy(() => {
    const scaled = tf.div(tf.transpose(dy, [0, 2, 3, 1]), divisorTensor(g)) as tf.Tensor4D;
    return tf.transpose(windowSumsBackward(scaled, [n, h, w, c], g), [0, 3, 1, 2]);
  });
});
