// BatchMatMul for wasm: with transposeA or transposeB set, the shipped kernel runs 5–40× slower than
// transposing the operand first (a Transpose kernel call) and multiplying plain matrices. Autodiff of matMul
// and every backward GEMM (InnerProduct's dW = dyᵀ·x) ask for transposed operands, so this matters.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement } from './replace.js';

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = [...t.shape.keys()];
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(t, perm);
}

export const batchMatMulWasm = kernelReplacement('BatchMatMul', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.BatchMatMulAttrs;
  const original = batchMatMulWasm.original!;
  if (!a.transposeA && !a.transposeB) return original.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
  const made: tf.Tensor[] = [];
  const plain = (info: tf.TensorInfo, transposed: boolean): tf.TensorInfo => {
    if (!transposed) return info;
    const t = swapLastTwo(asTensor(info));
    made.push(t);
    return t;
  };
  try {
    return original.kernelFunc({
      inputs: { a: plain(inputs.a!, a.transposeA), b: plain(inputs.b!, a.transposeB) },
      attrs: { ...attrs, transposeA: false, transposeB: false },
      backend,
    }) as tf.TensorInfo;
  } finally {
    tf.dispose(made);
  }
});

addWorkaround('wasm', () => batchMatMulWasm.install());
