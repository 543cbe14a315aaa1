// BatchMatMul on OpenBLAS's cblas_sgemm, in every transpose combination (sgemm reads transposed operands
// in place, where wasm's kernel is 5–40× slower with a transpose flag set). Covers float32 with equal batch
// dimensions or one operand unbatched (broadcast); anything else goes to the kernel it replaced.
import * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement } from '../kernels/replace.js';
import { nativeAddon } from './addon.js';
import { heapBuffer, isHeapBackend, makeFloatOutput, offsetOf } from './heap.js';
import { addNativeKernel } from './kernel-set.js';

const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
const sameDims = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export const batchMatMulNative = kernelReplacement('BatchMatMul', 'wasm', (args) => {
  const { inputs, backend } = args;
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const a = inputs.a!;
  const b = inputs.b!;
  const addon = nativeAddon();
  const fallback = () => batchMatMulNative.original!.kernelFunc(args as never) as tf.TensorInfo;
  if (!addon || !isHeapBackend(backend) || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return fallback();
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = size(outerA);
  const batchB = size(outerB);
  // Mismatched inner sizes and odd broadcasts: the replaced kernel gives tfjs' own error or result.
  const simpleBatch = sameDims(outerA, outerB) || batchA === 1 || batchB === 1;
  if (k !== kb || !simpleBatch || m * n * k * batchA * batchB === 0) return fallback();
  const outer = sameDims(outerA, outerB) || (batchB === 1 && outerB.length <= outerA.length) ? outerA : batchA === 1 && outerA.length <= outerB.length ? outerB : undefined;
  if (!outer) return fallback();
  const out = makeFloatOutput(backend, [...outer, m, n]);
  addon.gemm(heapBuffer(backend), Math.max(batchA, batchB), m, n, k, transposeA, transposeB, offsetOf(backend, a), batchA === 1 ? 0 : m * k, offsetOf(backend, b), batchB === 1 ? 0 : k * n, offsetOf(backend, out));
  return out;
});

addNativeKernel(batchMatMulNative);
