// BatchMatMul for wasm: with transposeA or transposeB set, the shipped kernel runs 5–40× slower than
// transposing the operand first (a Transpose kernel call) and multiplying plain matrices. Autodiff of matMul
// and every backward GEMM (InnerProduct's dW = dyᵀ·x) ask for transposed operands, so this matters. Plain
// products of batch 1 go to kdnet's SIMD module (gemm.ts), the rest to the shipped kernel.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement } from './replace.js';
import { gemmOnHeap } from './gemm.js';

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = [...t.shape.keys()];
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(t, perm);
}

const size = (t: tf.TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

export const batchMatMulWasm = kernelReplacement('BatchMatMul', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.BatchMatMulAttrs;
  const original = batchMatMulWasm.original!;
  const multiply = (x: tf.TensorInfo, y: tf.TensorInfo) =>
    gemmOnHeap(backend, x, y) ?? (original.kernelFunc({ inputs: { a: x, b: y }, attrs: { ...attrs, transposeA: false, transposeB: false }, backend }) as tf.TensorInfo);
  if (!a.transposeA && !a.transposeB) return multiply(inputs.a!, inputs.b!);
  const made: tf.Tensor[] = [];
  const plain = (info: tf.TensorInfo, transposed: boolean): tf.TensorInfo => {
    if (!transposed) return info;
    const t = swapLastTwo(asTensor(info));
    made.push(t);
    return t;
  };
  try {
    const [ia, ib] = [inputs.a!, inputs.b!];
    const rank = ia.shape.length;
    const m = a.transposeA ? ia.shape[rank - 1]! : ia.shape[rank - 2]!;
    const n = a.transposeB ? ib.shape[ib.shape.length - 2]! : ib.shape[ib.shape.length - 1]!;
    const outSize = (size(ia) / (ia.shape[rank - 1]! * ia.shape[rank - 2]!)) * m * n;
    // op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ: when the operands to transpose are larger than the other operand and
    // the result together (x·Wᵀ with a small batch: InnerProduct's forward), transpose those instead.
    const direct = (a.transposeA ? size(ia) : 0) + (a.transposeB ? size(ib) : 0);
    const swapped = (a.transposeA ? 0 : size(ia)) + (a.transposeB ? 0 : size(ib)) + outSize;
    if (swapped < direct && ia.shape.length === ib.shape.length) {
      const ct = asTensor(multiply(plain(ib, !a.transposeB), plain(ia, !a.transposeA)));
      made.push(ct);
      return swapLastTwo(ct);
    }
    return multiply(plain(ia, a.transposeA), plain(ib, a.transposeB));
  } finally {
    tf.dispose(made);
  }
});

addWorkaround('wasm', () => batchMatMulWasm.install());
