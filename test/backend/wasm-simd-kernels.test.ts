// kdnet's wasm SIMD kernels (MaxPoolGrad, CaffeAvgPoolGrad, Transpose): bitwise equal to their references on
// many shapes, on tfjs' single-threaded wasm build here and on its threaded build in a child process.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backend/select.js';
import { heapModule } from '../../src/backend/kernels/wasm-heap.js';
import { poolGradModuleBytes } from '../../src/backend/kernels/max-pool-grad-module.js';
import { transposeModuleBytes } from '../../src/backend/kernels/transpose-module.js';
import { transposeCall, transposeWasm } from '../../src/backend/kernels/transpose.js';
import { avgPoolGradModuleBytes } from '../../src/backend/kernels/avg-pool-grad-module.js';
import { avgPoolGradByModule } from '../../src/backend/kernels/avg-pool-caffe-grad.js';
import { caffeAvgPoolGradNative } from '../../src/backend/native/avg-pool-grad.js';
import { nativeAddon } from '../../src/backend/native/addon.js';
import { makeLayer } from '../support/gradient-check.js';
import { Rng } from '../../src/util/rng.js';
import {
  AVE_POOL_CASES,
  avePoolGradMismatches,
  caffeAveBackward,
  caffePooledSize,
  poolGradMismatches,
  POOL_CASES,
  TRANSPOSE_CASES,
  transposeMismatches,
  type AvePoolCase,
} from '../support/wasm-kernel-checks.js';
import { lastJsonLine, runSupportScript } from '../support/cli-process.js';
import { expectClose, nativeBuilt, onPureWasm } from './native/support.js';

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
    expect(onPureWasm(() => withoutModules(() => poolGradMismatches()))).toEqual([]);
  });
});

/** `f` with KDNET_WASM_KERNELS=0 (the kernels the modules replaced). */
function withoutModules<T>(f: () => T): T {
  process.env.KDNET_WASM_KERNELS = '0';
  try {
    return f();
  } finally {
    delete process.env.KDNET_WASM_KERNELS;
  }
}

describe('CaffeAvgPoolGrad by the wasm SIMD module', () => {
  const cifar: AvePoolCase = { x: [4, 32, 16, 16], kernel: [3, 3], stride: [2, 2], pad: [0, 0] };
  const attrsOf = (c: AvePoolCase) => ({ kernel: c.kernel, stride: c.stride, pad: c.pad, output: caffePooledSize(c), inputShape: c.x });
  const diffOf = (c: AvePoolCase, seed: number) => {
    const rng = new Rng(seed);
    return Float32Array.from({ length: c.x[0] * c.x[1] * caffePooledSize(c).reduce((a, b) => a * b, 1) }, () => rng.normal());
  };
  const runGrad = (c: AvePoolCase, dy: Float32Array) =>
    tf.tidy(() => tf.engine().runKernel('CaffeAvgPoolGrad', { dy: tf.tensor(dy, [c.x[0], c.x[1], ...caffePooledSize(c)]) }, attrsOf(c) as never) as tf.Tensor);
  const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
  const expectedBits = (c: AvePoolCase, dy: Float32Array) => Array.from(new Uint32Array(caffeAveBackward(c, dy).buffer));

  it('assembles and runs over the single-threaded build\'s memory', () => {
    expect(heapModule(tf.backend(), 'avg-pool-grad', avgPoolGradModuleBytes)).toBeDefined();
  });

  // With the native add-on, its oneDNN kernel is registered over this one (and falls back to it).
  it(`equals Caffe's Backward_cpu loop (float32) bitwise on ${AVE_POOL_CASES.length} geometries`, () => {
    expect(onPureWasm(() => avePoolGradMismatches())).toEqual([]);
  });

  it('KDNET_WASM_KERNELS=0 gives the composite: within 1e-6 of the loop, but not bitwise on CIFAR\'s overlapping windows', () => {
    const dy = diffOf(cifar, 3);
    const composite = onPureWasm(() => withoutModules(() => runGrad(cifar, dy)));
    const module = onPureWasm(() => runGrad(cifar, dy));
    expect(bits(module)).toEqual(expectedBits(cifar, dy));
    expect(bits(composite)).not.toEqual(expectedBits(cifar, dy));
    expectClose(composite, module, 1e-6);
    tf.dispose([composite, module]);
  });

  it('is not taken on other backends (they keep the composite)', () => {
    const dy = tf.zeros([1, 1, 2, 2]);
    const cpu = tf.findBackend('cpu');
    expect(cpu).toBeDefined();
    expect(avgPoolGradByModule(cpu!, dy, { kernel: [2, 2], stride: [2, 2], pad: [0, 0], output: [2, 2], inputShape: [1, 1, 4, 4] })).toBeUndefined();
    const taken = avgPoolGradByModule(tf.backend(), dy, { kernel: [2, 2], stride: [2, 2], pad: [0, 0], output: [2, 2], inputShape: [1, 1, 4, 4] });
    expect(taken?.shape).toEqual([1, 1, 4, 4]);
    tf.backend().disposeData(taken!.dataId);
    dy.dispose();
  });

  it.skipIf(!nativeBuilt)('with the add-on, the native kernel runs first and its fallback reaches the module', () => {
    expect(caffeAvgPoolGradNative.installed).toBe(true);
    const dy = diffOf(cifar, 5);
    const pool = vi.spyOn(nativeAddon()!, 'pool');
    try {
      const native = runGrad(cifar, dy);
      expect(pool).toHaveBeenCalled();
      expectClose(native, tf.tensor(caffeAveBackward(cifar, dy), cifar.x), 1e-6);
      native.dispose();
    } finally {
      pool.mockRestore();
    }
    // The fallback: the kernel the native one replaced, run directly.
    const dyt = tf.tensor(dy, [cifar.x[0], cifar.x[1], ...caffePooledSize(cifar)]);
    const info = caffeAvgPoolGradNative.original!.kernelFunc({ inputs: { dy: dyt }, attrs: attrsOf(cifar) as never, backend: tf.backend() }) as tf.TensorInfo;
    const fallback = tf.engine().makeTensorFromTensorInfo(info);
    expect(bits(fallback)).toEqual(expectedBits(cifar, dy));
    tf.dispose([dyt, fallback]);
  });

  it('a Pooling AVE layer\'s backward (CIFAR-10 quick pool2) equals Caffe\'s loop and the composite within 1e-6', () => {
    const layer = makeLayer('name: "pool2" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 3 stride: 2 }');
    layer.setup([cifar.x]);
    const x = tf.randomNormal(cifar.x);
    const dy = diffOf(cifar, 9);
    const backward = () => {
      const [y] = layer.forward([x]);
      const dyt = tf.tensor(dy, y!.shape);
      const dx = layer.backward([x], [y!], [dyt], [true]).bottomDiffs[0]!;
      tf.dispose([y!, dyt]);
      return dx;
    };
    const viaModule = onPureWasm(backward);
    const viaComposite = onPureWasm(() => withoutModules(backward));
    expect(bits(viaModule)).toEqual(expectedBits(cifar, dy));
    expectClose(viaComposite, viaModule, 1e-6);
    tf.dispose([x, viaModule, viaComposite]);
    layer.dispose();
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
