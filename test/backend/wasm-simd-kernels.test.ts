// kdnet's wasm SIMD kernels (MaxPoolGrad, Transpose): bitwise equal to their references on many shapes, on
// tfjs' single-threaded wasm build here and on its threaded build in a child process.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { heapModule } from '../../src/backend/kernels/wasm-heap.js';
import { poolGradModuleBytes } from '../../src/backend/kernels/max-pool-grad-module.js';
import { transposeModuleBytes } from '../../src/backend/kernels/transpose-module.js';
import { transposeCall, transposeWasm } from '../../src/backend/kernels/transpose.js';
import { poolGradMismatches, POOL_CASES, TRANSPOSE_CASES, transposeMismatches } from '../support/wasm-kernel-checks.js';
import { lastJsonLine, runSupportScript } from '../support/cli-process.js';
import { onPureWasm } from './native/support.js';

beforeAll(async () => {
  await initBackend('wasm', true);
});

describe('MaxPoolGrad by the wasm SIMD module', () => {
  it('assembles and runs over the single-threaded build\'s memory', () => {
    expect(heapModule(tf.backend(), 'max-pool-grad', poolGradModuleBytes)).toBeDefined();
  });

  // With the native add-on, its oneDNN MaxPoolGrad (which ignores the maxima) is registered over this one.
  it(`equals scatterToFirstMax bitwise on ${POOL_CASES.length} geometries, with and without the maxima`, () => {
    expect(onPureWasm(() => poolGradMismatches())).toEqual([]);
  });

  it('falls back to the JavaScript loop with KDNET_WASM_KERNELS=0, with the same results', () => {
    process.env.KDNET_WASM_KERNELS = '0';
    try {
      expect(onPureWasm(() => poolGradMismatches())).toEqual([]);
    } finally {
      delete process.env.KDNET_WASM_KERNELS;
    }
  });
});

describe('Transpose by the wasm SIMD module', () => {
  it('assembles over the heap and is installed over tfjs\' Transpose', () => {
    expect(heapModule(tf.backend(), 'transpose', transposeModuleBytes)).toBeDefined();
    expect(transposeWasm.installed).toBe(true);
  });

  it('takes the permutations of a training step (NCHW ↔ NHWC, the filter gradient\'s, weight layouts)', () => {
    expect(transposeCall([100, 32, 32, 32], [0, 2, 3, 1])?.fn).toBe('transpose2d');
    expect(transposeCall([100, 32, 32, 32], [0, 3, 1, 2])?.fn).toBe('transpose2dTall');
    expect(transposeCall([100, 16, 16, 32], [3, 1, 2, 0])?.fn).toBe('transpose2dTall');
    expect(transposeCall([100, 16, 16, 32], [1, 2, 0, 3])?.fn).toBe('swapBlocks');
    expect(transposeCall([32, 32, 5, 5], [2, 3, 1, 0])?.fn).toBe('transpose2dTall');
    expect(transposeCall([64, 1024], [1, 0])?.fn).toBe('transpose2d');
    expect(transposeCall([2, 3, 4, 5], [1, 3, 0, 2])).toBeUndefined(); // stays rank 4: tfjs' kernel
    expect(transposeCall([4, 1, 3, 2], [0, 2, 3, 1])).toBeUndefined(); // only moves a size-1 axis
  });

  it(`equals tfjs' Transpose bitwise on ${TRANSPOSE_CASES.length} shape × permutation cases, float32 and int32`, () => {
    expect(transposeMismatches(transposeWasm.original!)).toEqual([]);
  });
});

describe('on tfjs\' threaded wasm build (KDNET_NATIVE=0, OMP_NUM_THREADS=2)', () => {
  it('the same checks pass in a child process over the shared memory', () => {
    const r = runSupportScript('wasm-kernels-child.ts', { KDNET_NATIVE: '0', OMP_NUM_THREADS: '2' });
    expect(r.code, r.stderr).toBe(0);
    const report = lastJsonLine<{ threads: number; shared: boolean; modules: boolean; mismatches: string[] }>(r.stdout);
    expect(report).toEqual({ threads: 2, shared: true, modules: true, mismatches: [] });
  });
});
