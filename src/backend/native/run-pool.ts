// Runs one oneDNN pooling (native/src/pool.cc) over wasm tensors: tfjs' MaxPool and MaxPoolGrad, whose
// filter, strides, 'same'/'valid'/explicit padding and rounding tfjs' own computePool2DInfo resolves exactly
// as the wasm kernels do (oneDNN gets that padding as it is), and kdnet's Caffe pooling kernels, whose NCHW
// blob goes as N·C one-channel planes. Undefined means "not taken" (no add-on, not float32, empty, oneDNN
// refused, or for tfjs' kernels a window with nothing above -FLT_MAX): the caller falls back to the kernel
// it replaced.
import * as tf from '@tensorflow/tfjs-core';
import { nativeAddon } from './addon.js';
import type { Pad } from '../kernels/replace.js';
import { disposeOutput, heapBuffer, isHeapBackend, makeFloatOutput, offsetOf } from './heap.js';
import { explicitPad, type CaffePoolAttrs } from '../kernels/pool-windows.js';

export const enum PoolKind {
  MaxForward = 0,
  MaxBackward = 1,
  /** Caffe's MAX forward: windows with nothing above -FLT_MAX give -FLT_MAX (never falls back for them). */
  MaxForwardFloor = 2,
  AvgForward = 3,
  AvgBackward = 4,
}

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
  /** The output's shape: y for forward kinds, x for backward ones (dx). */
  outShape: number[];
}

/** What the add-on needs for a tfjs MaxPool / MaxPoolGrad call, or undefined for an empty geometry. */
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

/** The plan of a Caffe pooling kernel over the NCHW blob of shape `xShape` (as N·C one-channel planes). */
export function caffePoolPlan(kind: PoolKind.MaxForwardFloor | PoolKind.AvgForward | PoolKind.AvgBackward, xShape: number[], a: CaffePoolAttrs): PoolPlan | undefined {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const dims = [n * c, h, w, a.output[0], a.output[1], a.kernel[0], a.kernel[1], a.stride[0], a.stride[1]];
  if (!dims.every((d) => Number.isInteger(d) && d > 0 && d < 2 ** 31)) return undefined;
  const pad = explicitPad({ ...a, input: [h, w] });
  const params = Int32Array.of(kind, 1, n * c, h, w, 1, a.output[0], a.output[1], a.kernel[0], a.kernel[1], a.stride[0], a.stride[1], pad[1][0], pad[2][0], pad[1][1], pad[2][1]);
  return { params, outShape: kind === PoolKind.AvgBackward ? [...xShape] : [n, c, a.output[0], a.output[1]] };
}

/** Runs `plan` on in0 (x; unused by AvgBackward) and in1 (dy, backward kinds), or undefined: not taken. */
export function runPlan(backend: tf.KernelBackend, plan: PoolPlan | undefined, in0: tf.TensorInfo | undefined, in1?: tf.TensorInfo): tf.TensorInfo | undefined {
  const addon = nativeAddon();
  const inputs = [in0, in1].filter((t): t is tf.TensorInfo => !!t);
  if (!plan || !addon || !isHeapBackend(backend) || inputs.some((t) => t.dtype !== 'float32' || t.shape.length !== 4)) return undefined;
  const out = makeFloatOutput(backend, plan.outShape);
  if (addon.pool(plan.params, heapBuffer(backend), in0 ? offsetOf(backend, in0) : 0, in1 ? offsetOf(backend, in1) : 0, offsetOf(backend, out))) return out;
  disposeOutput(backend, out);
  return undefined;
}

/** A tfjs MaxPool / MaxPoolGrad call. x: the kernel's input; dy: the pooled gradient (MaxBackward only). */
export function runPool(backend: tf.KernelBackend, call: PoolCall, x: tf.TensorInfo, dy?: tf.TensorInfo): tf.TensorInfo | undefined {
  if (x.shape.length !== 4 || !nativeAddon()) return undefined;
  return runPlan(backend, poolPlan(call), x, dy);
}
