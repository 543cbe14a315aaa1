// kdnet's wasm SIMD filter gradient (src/backend/kernels/filter-grad.ts): Conv2DBackpropFilter on pure wasm
// against a float64 loop on many geometries, the fallback paths it sits in front of, and bitwise the same
// results on tfjs' threaded build, where kernel workers run part of every call.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { heapModule } from '../../src/backend/kernels/wasm-heap.js';
import { filterGradModuleBytes } from '../../src/backend/kernels/filter-grad-module.js';
import { filterGradModuleApplies, filterGradOnHeap } from '../../src/backend/kernels/filter-grad.js';
import { FILTER_GRAD_CASES, filterGradResults, type FilterGradResult } from '../support/filter-grad-checks.js';
import { lastJsonLine, runSupportScript } from '../support/cli-process.js';
import { onPureWasm } from './native/support.js';

beforeAll(async () => {
  await initBackend('wasm', true);
});

// float32 sums of up to a few thousand products against float64.
const TOLERANCE = 2e-6;

describe('the filter gradient by the wasm SIMD module', () => {
  it('assembles over the heap and takes every filter gradient without dilation', () => {
    expect(heapModule(tf.backend(), 'filter-grad', filterGradModuleBytes)).toBeDefined();
    expect(filterGradModuleApplies([1, 1])).toBe(true);
    expect(filterGradModuleApplies([2, 2])).toBe(false);
    expect(filterGradModuleApplies([1, 2])).toBe(false);
  });

  it(`matches a float64 loop on ${FILTER_GRAD_CASES.length} geometries through Conv2DBackpropFilter`, () => {
    for (const r of onPureWasm(() => filterGradResults())) expect(r.relError, r.name).toBeLessThan(TOLERANCE);
  });

  it('is what the kernel returns (the module path is taken)', () => {
    const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 9, 9, 8]) as tf.Tensor4D;
    const info = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, 3, 8], 1, 1, [[0, 0], [1, 1], [1, 1], [0, 0]] as never, undefined, false, 'channelsLast');
    const direct = tf.tidy(() => filterGradOnHeap(x, dy, [3, 3, 3, 8], info)!.dataSync());
    const viaKernel = onPureWasm(() => tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], dataFormat: 'NHWC', filterShape: [3, 3, 3, 8] } as never) as tf.Tensor).dataSync()));
    expect(Array.from(viaKernel)).toEqual(Array.from(direct));
    tf.dispose([x, dy]);
  });

  it('leaves nothing behind (tensors and heap data)', () => {
    onPureWasm(() => filterGradResults());
    const before = tf.memory().numTensors;
    const bytes = (tf.memory() as { numBytesInWASM?: number }).numBytesInWASM;
    onPureWasm(() => filterGradResults());
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.memory() as { numBytesInWASM?: number }).numBytesInWASM).toBe(bytes);
  });

  it('falls back to the im2col and convolution paths with KDNET_WASM_KERNELS=0, within float32 error', () => {
    process.env.KDNET_WASM_KERNELS = '0';
    try {
      for (const r of onPureWasm(() => filterGradResults())) expect(r.relError, r.name).toBeLessThan(1e-5);
    } finally {
      delete process.env.KDNET_WASM_KERNELS;
    }
  });

  it("gives bitwise the same results on tfjs' threaded build, where a kernel worker runs parts of the calls", () => {
    const here = onPureWasm(() => filterGradResults());
    const r = runSupportScript('filter-grad-child.ts', { KDNET_NATIVE: '0', OMP_NUM_THREADS: '2' });
    expect(r.code, r.stderr).toBe(0);
    const child = lastJsonLine<{ threads: number; results: FilterGradResult[]; workerCalls: number }>(r.stdout);
    expect(child.threads).toBe(2);
    expect(child.workerCalls).toBeGreaterThan(0);
    expect(child.results.map((c) => [c.name, c.hash])).toEqual(here.map((c) => [c.name, c.hash]));
  });
});
