// MaxPoolGrad for wasm: the shipped kernel loses gradient when a window has tied maxima (all zeros after a
// ReLU is the common case): on a 4×4 zero input with 2×2 windows it returns one 1 where every window should
// send its gradient to its own first element. Caffe (and tfjs' cpu backend) route each window's gradient to
// the first maximum in scan order; this replacement does exactly that, with a wasm SIMD module over tfjs'
// heap (max-pool-grad-module.ts), or the JavaScript loop it equals bitwise where wasm SIMD is missing.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { kernelReplacement } from './replace.js';
import { makeOutput, readFloats, scatterToFirstMax } from './max-pool-first.js';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { poolGradFunction, poolGradModuleBytes, type PoolGradModule, type PoolGradShape } from './max-pool-grad-module.js';

/** dx by the SIMD module, or undefined when it cannot run here. */
function simdGrad(backend: tf.KernelBackend, x: tf.TensorInfo, dy: tf.TensorInfo, maxima: tf.TensorInfo | undefined, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const found = wasmKernelsDisabled() ? undefined : heapModule<PoolGradModule>(backend, 'max-pool-grad', poolGradModuleBytes);
  if (!found) return undefined;
  const { module, heap } = found;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { effectiveFilterHeight: eh, effectiveFilterWidth: ew, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const dx = heap.makeOutput(x.shape, 'float32');
  const size = n * h * w * c;
  if (size === 0) return dx;
  new Float32Array(heap.memory.buffer, heap.offsetOf(dx), size).fill(0);
  if (oh * ow === 0) return dx;
  // Output columns whose windows lie inside the width go four at a time (one channel each); with four
  // channels or more, channels go four at a time instead.
  const oxLo = Math.min(ow, Math.ceil(left / sw));
  const oxHi = c >= 4 || w - ew + left < 0 ? 0 : Math.min(ow, Math.floor((w - ew + left) / sw) + 1);
  const shape: PoolGradShape = c === 1 && sw === 1 ? 'c1s1' : c === 1 && sw === 2 ? 'c1s2' : 'any';
  const fn = module[poolGradFunction(shape, maxima !== undefined)]!;
  const at = heap.offsetOf;
  fn(at(x), at(dx), at(dy), maxima ? at(maxima) : 0, n, h, w, c, oh, ow, sh, sw, dh, dw, eh, ew, top, left, kw, oxLo, oxHi);
  return dx;
}

export const maxPoolGradWasm = kernelReplacement('MaxPoolGrad', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const x = inputs.input!;
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const maxima = inputs.output && inputs.output.shape.join() === info.outShape.join() ? inputs.output : undefined;
  return (
    simdGrad(backend, x, inputs.dy!, maxima, info) ??
    makeOutput<Float32Array>(backend, x.shape, 'float32', (dx) => {
      scatterToFirstMax(readFloats(backend, x), info, maxima && readFloats(backend, maxima), readFloats(backend, inputs.dy!), dx);
    })
  );
});

addWorkaround('wasm', () => maxPoolGradWasm.install());
