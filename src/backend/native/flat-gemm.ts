// C = op(A)·op(B) (+ a bias row) over tensors read as flat row-major matrices, whatever their rank: kdnet's
// InnerProduct layer in one native call per GEMM. tf.matMul wraps its BatchMatMul kernel in three reshapes,
// and the layer adds two more and a broadcast bias add: at batch 1 those dispatches cost more than the GEMM.
// Registered on the wasm backend as kdnet's own kernel; callers get undefined when it is not installed.
import * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { nativeAddon } from './addon.js';
import { heapBuffer, makeFloatOutput, offsetOf } from './heap.js';
import { addNativeKernel } from './kernel-set.js';

export interface FlatGemm {
  /** op(A) is m × k, op(B) is k × n. */
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

export const flatGemmNative = kernelReplacement('KdnetGemm', 'wasm', ({ inputs, attrs, backend }) => {
  const { m, n, k, transA, transB } = attrs as unknown as FlatGemm;
  const c = makeFloatOutput(backend, [m, n]);
  const bias = inputs.bias ? [offsetOf(backend, inputs.bias)] : [];
  nativeAddon()!.gemm(heapBuffer(backend), 1, m, n, k, transA, transB, offsetOf(backend, inputs.a!), 0, offsetOf(backend, inputs.b!), 0, offsetOf(backend, c), ...bias);
  return c;
});
addNativeKernel(flatGemmNative);

/** op(a)·op(b) (+ bias, n values, on every row) as an [m, n] tensor, or undefined when the kernel is absent. */
export function nativeFlatGemm(a: tf.Tensor, b: tf.Tensor, g: FlatGemm, bias?: tf.Tensor): tf.Tensor2D | undefined {
  if (!flatGemmNative.installed || tf.getBackend() !== 'wasm') return undefined;
  if ([a, b, bias].some((t) => t && t.dtype !== 'float32') || a.size !== g.m * g.k || b.size !== g.k * g.n || (bias && bias.size !== g.n)) return undefined;
  if (g.m * g.n * g.k === 0) return undefined;
  const inputs: tf.NamedTensorMap = bias ? { a, b, bias } : { a, b };
  return tf.engine().runKernel('KdnetGemm', inputs, { ...g } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
