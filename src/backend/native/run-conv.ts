// Runs one oneDNN convolution over wasm tensors: plan, allocate the output on the heap, call the add-on.
// Undefined means "not taken" (no add-on, not float32, empty, or oneDNN refused): the caller falls back.
import type * as tf from '@tensorflow/tfjs-core';
import { nativeAddon } from './addon.js';
import { convPlan, type ConvCall } from './conv-params.js';
import { disposeOutput, heapBuffer, isHeapBackend, makeFloatOutput, offsetOf } from './heap.js';

export function runConv(backend: tf.KernelBackend, call: ConvCall, in0: tf.TensorInfo, in1: tf.TensorInfo): tf.TensorInfo | undefined {
  const addon = nativeAddon();
  if (!addon || !isHeapBackend(backend) || in0.dtype !== 'float32' || in1.dtype !== 'float32') return undefined;
  if (in0.shape.length !== 4 || in1.shape.length !== 4) return undefined;
  const plan = convPlan(call);
  if (!plan) return undefined;
  const out = makeFloatOutput(backend, plan.yShape);
  if (addon.conv(plan.params, heapBuffer(backend), offsetOf(backend, in0), offsetOf(backend, in1), offsetOf(backend, out))) return out;
  disposeOutput(backend, out);
  return undefined;
}
