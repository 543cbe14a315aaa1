// A convolution on pure wasm by kdnet's SIMD module (conv-module.ts) over tfjs' heap, on as many threads as
// tfjs' threaded build runs (heap-threads.ts): 1.2–1.3× XNNPACK's speed on LeNet's and CIFAR-10 quick's
// convolutions here. Conv2D and FusedConv2D (bias, no activation) take it for NHWC without dilation; the
// input gradient, a convolution of dy, does too. Each output is summed by one call in one order, so 1 and N
// threads give bitwise the same result.
import * as tf from '@tensorflow/tfjs-core';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { runCalls } from './heap-threads.js';
import { HeapScratch, narrowRowsInto, paddedInput, widenedRows } from './conv-heap.js';
import { convModuleBytes, type ConvModule } from './conv-module.js';

/** Calls the output rows are split into (at most): enough for any thread count to share them evenly. */
const PARTS = 16;

/** Whether the module computes this convolution (NHWC, no dilation; KDNET_WASM_KERNELS=0 turns it off). */
export function convModuleApplies(dataFormat: string | undefined, dilations: number | [number, number] | undefined): boolean {
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
  return (dataFormat ?? 'NHWC') === 'NHWC' && dh === 1 && dw === 1 && !wasmKernelsDisabled();
}

/**
 * NHWC x convolved with the HWIO filter, plus `bias` ([O]) when given, by the module; undefined when it cannot
 * run here (not tfjs-wasm, no wasm SIMD, not float32).
 */
export function convOnHeap(backend: tf.KernelBackend, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1))) return undefined;
  const found = heapModule<ConvModule>(backend, 'conv', convModuleBytes);
  if (!found) return undefined;
  const { module, heap, compiled } = found;
  const { batchSize: n, outHeight: oh, outWidth: ow, outChannels: o, filterHeight: kh, filterWidth: kw, inChannels: c } = info;
  if (bias && bias.shape[0] !== o) return undefined;
  const o4 = Math.ceil(o / 4) * 4;
  const rows = n * oh;
  const taps = kh * kw * c;
  const scratch = new HeapScratch(heap);
  try {
    const { padded, hp, wp } = paddedInput(scratch, x, info);
    const wideFilter = widenedRows(scratch, filter, taps, o, o4);
    const wideBias = scratch.take([o4], true);
    if (bias) scratch.floats(wideBias).set(scratch.floats(bias));
    const out = heap.makeOutput(info.outShape, 'float32');
    const wideOut = o4 !== o ? scratch.take([rows * ow, o4]) : out;
    const at = heap.offsetOf;
    const parts = Math.min(PARTS, rows);
    const calls = Array.from({ length: parts }, (_, p) => [
      at(padded), at(wideFilter), at(wideBias), at(wideOut),
      Math.floor((p * rows) / parts), Math.floor(((p + 1) * rows) / parts), 0, o4,
      oh, ow, o4, kh, kw * c, info.strideHeight, info.strideWidth, c, hp, wp,
    ]);
    runCalls(heap, { module: compiled, name: 'conv', call: module.conv }, calls);
    if (wideOut !== out) narrowRowsInto(heap, wideOut, out, rows * ow, o4, o);
    return out;
  } finally {
    scratch.free();
  }
}
