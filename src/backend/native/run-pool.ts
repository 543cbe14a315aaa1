// Runs one oneDNN max pooling (forward, or gradient) over wasm tensors. tfjs' own computePool2DInfo resolves
// filter, strides, 'same'/'valid'/explicit padding and rounding exactly as the wasm kernels do; oneDNN gets
// that padding as it is. Undefined means "not taken" (no add-on, not float32 NHWC, empty, oneDNN refused,
// or a window with nothing above -FLT_MAX): the caller falls back to the kernel it replaced.
import * as tf from '@tensorflow/tfjs-core';
import { nativeAddon } from './addon.js';
import { disposeOutput, heapBuffer, isHeapBackend, makeFloatOutput, offsetOf } from './heap.js';

export const enum PoolKind {
  MaxForward = 0,
  MaxBackward = 1,
}

type Pad = tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;

export interface PoolCall {
  kind: PoolKind;
  /** NHWC input shape (x). */
  xShape: number[];
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export interface PoolPlan {
  /** The add-on's parameters (native/src/pool.cc). */
  params: Int32Array;
  /** y's shape for MaxForward, x's for MaxBackward (dx). */
  outShape: number[];
}

/** What the add-on needs for this call, or undefined for an empty geometry. */
export function poolPlan(c: PoolCall): PoolPlan | undefined {
  const info = tf.backend_util.computePool2DInfo(c.xShape as [number, number, number, number], c.filterSize, c.strides, 1, c.pad, c.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  if ([batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth].some((d) => !(d > 0))) return undefined;
  const p = info.padInfo;
  // planes = 1: a one-channel batch (kdnet's MAX Pooling hands NCHW blobs as N·C one-channel images) is the
  // same bytes as one NCHW image of N·C channels, which oneDNN pools channel-vectorized.
  const planes = inChannels === 1 ? 1 : 0;
  const params = Int32Array.of(c.kind, planes, batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, p.top, p.left, p.bottom, p.right);
  return { params, outShape: c.kind === PoolKind.MaxForward ? info.outShape : [...c.xShape] };
}

/** x: the kernel's input; dy: the pooled gradient (MaxBackward only). */
export function runPool(backend: tf.KernelBackend, call: PoolCall, x: tf.TensorInfo, dy?: tf.TensorInfo): tf.TensorInfo | undefined {
  const addon = nativeAddon();
  if (!addon || !isHeapBackend(backend) || x.dtype !== 'float32' || (dy && dy.dtype !== 'float32') || x.shape.length !== 4) return undefined;
  const plan = poolPlan(call);
  if (!plan) return undefined;
  const out = makeFloatOutput(backend, plan.outShape);
  if (addon.pool(plan.params, heapBuffer(backend), offsetOf(backend, x), dy ? offsetOf(backend, dy) : 0, offsetOf(backend, out))) return out;
  disposeOutput(backend, out);
  return undefined;
}
