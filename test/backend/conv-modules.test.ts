// kdnet's wasm SIMD convolution modules on pure wasm: the convolution (src/backend/kernels/conv.ts, behind
// Conv2D, FusedConv2D and so the input gradient), the filter gradient (filter-grad.ts, behind
// Conv2DBackpropFilter) and the matrix product (gemm.ts, behind BatchMatMul), against float64 loops on many
// geometries; the paths they sit in front of; and bitwise the same results on tfjs' threaded build, where
// kernel workers run part of every call.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { heapModule } from '../../src/backend/kernels/wasm-heap.js';
import { filterGradModuleBytes } from '../../src/backend/kernels/filter-grad-module.js';
import { convModuleBytes } from '../../src/backend/kernels/conv-module.js';
import { filterGradModuleApplies, filterGradOnHeap } from '../../src/backend/kernels/filter-grad.js';
import { convModuleApplies, convOnHeap } from '../../src/backend/kernels/conv.js';
import { gemmOnHeap } from '../../src/backend/kernels/gemm.js';
import { CONV_CASES, GEMM_CASES, convResults, filterGradResults, gemmResults, type ModuleResult } from '../support/conv-module-checks.js';
import { lastJsonLine, runSupportScript } from '../support/cli-process.js';
import { onPureWasm } from './native/support.js';

beforeAll(async () => {
  await initBackend('wasm', true);
});

// float32 sums of up to a few thousand products against float64.
const TOLERANCE = 2e-6;
const expectAccurate = (results: ModuleResult[], tolerance = TOLERANCE) => {
  for (const r of results) expect(r.relError, r.name).toBeLessThan(tolerance);
};
const withKernelsOff = <T>(f: () => T): T => {
  process.env.KDNET_WASM_KERNELS = '0';
  try {
    return f();
  } finally {
    delete process.env.KDNET_WASM_KERNELS;
  }
};
const pad1 = [[0, 0], [1, 1], [1, 1], [0, 0]];

describe('the wasm SIMD convolution modules', () => {
  it('assemble over the heap and take NHWC without dilation', () => {
    expect(heapModule(tf.backend(), 'filter-grad', filterGradModuleBytes)).toBeDefined();
    expect(heapModule(tf.backend(), 'conv', convModuleBytes)).toBeDefined();
    expect(filterGradModuleApplies([1, 1])).toBe(true);
    expect(filterGradModuleApplies([2, 2])).toBe(false);
    expect(convModuleApplies('NHWC', 1)).toBe(true);
    expect(convModuleApplies(undefined, [1, 1])).toBe(true);
    expect(convModuleApplies('NHWC', [1, 2])).toBe(false);
    expect(convModuleApplies('NCHW', 1)).toBe(false);
  });

  it(`filter gradient: matches a float64 loop on ${CONV_CASES.length} geometries through Conv2DBackpropFilter`, () => {
    expectAccurate(onPureWasm(() => filterGradResults()));
  });

  it(`convolution: matches a float64 loop on ${CONV_CASES.length} geometries through Conv2D, and FusedConv2D with a bias`, () => {
    const results = onPureWasm(() => convResults());
    expect(results.filter((r) => r.name.startsWith('FusedConv2D')).length).toBe(CONV_CASES.length - 1);
    expectAccurate(results);
  });

  it(`matrix product: matches a float64 loop on ${GEMM_CASES.length} products through matMul, every transpose combination`, () => {
    expectAccurate(onPureWasm(() => gemmResults()));
  });

  it('matrix product: takes plain products of batch 1, leaves batches to the shipped kernel', () => {
    const a = tf.randomNormal([6, 5]);
    const b = tf.randomNormal([5, 7]);
    const byModule = gemmOnHeap(tf.backend(), a, b)!;
    const viaKernel = onPureWasm(() => tf.tidy(() => Array.from(tf.matMul(a, b).dataSync())));
    expect(Array.from(tf.engine().makeTensorFromTensorInfo(byModule).dataSync())).toEqual(viaKernel);
    tf.dispose(tf.engine().makeTensorFromTensorInfo(byModule));
    expect(gemmOnHeap(tf.backend(), tf.zeros([2, 3, 4]), tf.zeros([2, 4, 5]))).toBeUndefined();
    expect(gemmOnHeap(tf.backend(), tf.zeros([3, 4], 'int32'), tf.zeros([4, 5], 'int32'))).toBeUndefined();
    tf.dispose([a, b]);
  });

  it('are what the kernels return (the module paths are taken)', () => {
    const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 9, 9, 8]) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 3, 8]) as tf.Tensor4D;
    const bias = tf.randomNormal([8]);
    const info = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, 3, 8], 1, 1, pad1 as never, undefined, false, 'channelsLast');
    const direct = (f: () => tf.TensorInfo | tf.Tensor | undefined) =>
      tf.tidy(() => {
        const r = f()!;
        return Array.from(tf.engine().makeTensorFromTensorInfo(r).dataSync());
      });
    const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => onPureWasm(() => tf.tidy(() => Array.from((tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor).dataSync())));
    expect(kernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: pad1, dataFormat: 'NHWC', filterShape: [3, 3, 3, 8] })).toEqual(direct(() => filterGradOnHeap(x, dy, [3, 3, 3, 8], info)));
    expect(kernel('Conv2D', { x, filter }, { strides: 1, pad: pad1, dataFormat: 'NHWC', dilations: 1 })).toEqual(direct(() => convOnHeap(tf.backend(), x, filter, undefined, info)));
    expect(kernel('FusedConv2D', { x, filter, bias }, { strides: 1, pad: pad1, dataFormat: 'NHWC', dilations: 1, activation: 'linear' })).toEqual(direct(() => convOnHeap(tf.backend(), x, filter, bias, info)));
    tf.dispose([x, dy, filter, bias]);
  });

  it('FusedConv2D with an activation goes to the shipped kernel, and is right', () => {
    const x = tf.randomNormal([2, 6, 6, 3]);
    const filter = tf.randomNormal([3, 3, 3, 4]);
    const bias = tf.randomNormal([4]);
    const fused = onPureWasm(() => tf.tidy(() => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' }).dataSync()));
    const plain = onPureWasm(() => tf.tidy(() => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), bias)).dataSync()));
    fused.forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 4));
    tf.dispose([x, filter, bias]);
  });

  it('leave nothing behind (tensors and heap data)', () => {
    onPureWasm(() => [filterGradResults(), convResults(), gemmResults()]);
    const before = tf.memory().numTensors;
    const bytes = (tf.memory() as { numBytesInWASM?: number }).numBytesInWASM;
    onPureWasm(() => [filterGradResults(), convResults(), gemmResults()]);
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.memory() as { numBytesInWASM?: number }).numBytesInWASM).toBe(bytes);
  });

  it('fall back to the earlier paths with KDNET_WASM_KERNELS=0, within float32 error', () => {
    expectAccurate(withKernelsOff(() => onPureWasm(() => [...filterGradResults(), ...convResults(), ...gemmResults()])), 1e-5);
  });

  it("give bitwise the same results on tfjs' threaded build, where a kernel worker runs parts of the calls", () => {
    const here = onPureWasm(() => [...filterGradResults(), ...convResults(), ...gemmResults()]);
    const r = runSupportScript('conv-modules-child.ts', { KDNET_NATIVE: '0', OMP_NUM_THREADS: '2' });
    expect(r.code, r.stderr).toBe(0);
    const child = lastJsonLine<{ threads: number; results: ModuleResult[]; workerCalls: number }>(r.stdout);
    expect(child.threads).toBe(2);
    expect(child.workerCalls).toBeGreaterThan(0);
    expect(child.results.map((c) => [c.name, c.hash])).toEqual(here.map((c) => [c.name, c.hash]));
  });
});
