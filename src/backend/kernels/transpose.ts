// Transpose for wasm: tfjs-wasm's generic C++ kernel walks every element through index arithmetic; a training
// step's transposes (NCHW ↔ NHWC activations, the filter gradient's [3,1,2,0] and [1,2,0,3], weight
// layouts) run instead on kdnet's SIMD module (transpose-module.ts). Any permutation of 32-bit elements is
// first reduced (size-1 axes dropped, axes that stay neighbours merged); those that become a 2-D transpose,
// a batch of them ([0,2,1], [2,1,0]) or a swap of rows ([1,0,2]) run there, everything else (other dtypes,
// reduced rank 4, no wasm SIMD, KDNET_WASM_KERNELS=0) on the kernel tfjs shipped.
import type * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { kernelReplacement } from './replace.js';
import { heapModule, wasmKernelsDisabled } from './wasm-heap.js';
import { transposeModuleBytes, type TransposeModule } from './transpose-module.js';

/** `shape` and `perm` with size-1 axes dropped and axes that stay neighbours (in input and output) merged. */
export function reducePermutation(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, axis) => axis).filter((axis) => shape[axis] !== 1);
  const rank = new Map(kept.map((axis, i) => [axis, i]));
  const runs: number[][] = [];
  for (const axis of perm.filter((a) => shape[a] !== 1).map((a) => rank.get(a)!)) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === axis - 1) last.push(axis);
    else runs.push([axis]);
  }
  const byInput = [...runs].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: byInput.map((run) => run.reduce((n, r) => n * shape[kept[r]!]!, 1)),
    perm: runs.map((run) => byInput.indexOf(run)),
  };
}

type Call = { fn: 'transpose2d' | 'transpose2dTall' | 'swapBlocks'; args: number[] };

/** The module call for a reduced permutation, or undefined when it is not one the module has. */
export function transposeCall(shape: number[], perm: number[]): Call | undefined {
  const { shape: s, perm: p } = reducePermutation(shape, perm);
  const key = p.join();
  // [T, R, S, in row stride, out row stride, in batch stride, out batch stride]
  const twoD = (args: number[]): Call => ({ fn: args[1]! > args[2]! ? 'transpose2dTall' : 'transpose2d', args });
  if (key === '1,0') return twoD([1, s[0]!, s[1]!, s[1]!, s[0]!, 0, 0]);
  if (key === '0,2,1') return twoD([s[0]!, s[1]!, s[2]!, s[2]!, s[1]!, s[1]! * s[2]!, s[1]! * s[2]!]);
  if (key === '2,1,0') return twoD([s[1]!, s[0]!, s[2]!, s[1]! * s[2]!, s[1]! * s[0]!, s[2]!, s[0]!]);
  if (key === '1,0,2') return { fn: 'swapBlocks', args: [s[0]!, s[1]!, s[2]!] };
  return undefined;
}

export const transposeWasm = kernelReplacement('Transpose', 'wasm', (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  const perm = (attrs as unknown as tf.TransposeAttrs).perm;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const call = (x.dtype === 'float32' || x.dtype === 'int32') && size > 0 ? transposeCall(x.shape, perm) : undefined;
  const found = call && !wasmKernelsDisabled() ? heapModule<TransposeModule>(backend, 'transpose', transposeModuleBytes) : undefined;
  if (!call || !found) return transposeWasm.original!.kernelFunc(args as never) as tf.TensorInfo;
  const out = found.heap.makeOutput(
    perm.map((axis) => x.shape[axis]!),
    x.dtype,
  );
  found.module[call.fn](found.heap.offsetOf(x), found.heap.offsetOf(out), ...call.args);
  return out;
});

addWorkaround('wasm', () => transposeWasm.install());
