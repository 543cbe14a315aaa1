// kdnet's wasm SIMD kernels (MaxPoolGrad, CaffeAvgPool and CaffeAvgPoolGrad, Transpose): bitwise equal to their references on
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
import { avgPoolModuleBytes } from '../../src/backend/kernels/avg-pool-module.js';
import { avgPoolByModule, avgPoolGradByModule } from '../../src/backend/kernels/avg-pool-wasm.js';
import { caffeAvgPoolGradNative } from '../../src/backend/native/avg-pool-grad.js';
import { caffeAvgPoolNative } from '../../src/backend/native/avg-pool.js';
import { nativeAddon } from '../../src/backend/native/addon.js';
import { makeLayer } from '../support/gradient-check.js';
import { Rng } from '../../src/util/rng.js';
import {
  AVE_POOL_CASES,
  avePoolGradMismatches,
  avePoolMismatches,
  caffeAveBackward,
  caffeAveForward,
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

describe('CaffeAvgPool and CaffeAvgPoolGrad by the wasm SIMD modules', () => {
  const cifar: AvePoolCase = { x: [4, 32, 16, 16], kernel: [3, 3], stride: [2, 2], pad: [0, 0] };
  const attrsOf = (c: AvePoolCase) => ({ kernel: c.kernel, stride: c.stride, pad: c.pad, output: caffePooledSize(c) });
  const pooledShape = (c: AvePoolCase) => [c.x[0], c.x[1], ...caffePooledSize(c)];
  const normals = (shape: number[], seed: number) => {
    const rng = new Rng(seed);
    return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  };
  const runPool = (c: AvePoolCase, x: Float32Array) => tf.tidy(() => tf.engine().runKernel('CaffeAvgPool', { x: tf.tensor(x, c.x) }, attrsOf(c) as never) as tf.Tensor);
  const runGrad = (c: AvePoolCase, dy: Float32Array) =>
    tf.tidy(() => tf.engine().runKernel('CaffeAvgPoolGrad', { dy: tf.tensor(dy, pooledShape(c)) }, { ...attrsOf(c), inputShape: c.x } as never) as tf.Tensor);
  const bits = (t: tf.Tensor | Float32Array) => Array.from(new Uint32Array((t instanceof Float32Array ? t : (t.dataSync() as Float32Array)).slice().buffer));

  it('assemble and run over the single-threaded build\'s memory', () => {
    expect(heapModule(tf.backend(), 'avg-pool', avgPoolModuleBytes)).toBeDefined();
    expect(heapModule(tf.backend(), 'avg-pool-grad', avgPoolGradModuleBytes)).toBeDefined();
  });

  // With the native add-on, its oneDNN kernels are registered over these (and fall back to them).
  it(`equal Caffe's Forward_cpu and Backward_cpu loops (float32) bitwise on ${AVE_POOL_CASES.length} geometries`, () => {
    expect(onPureWasm(() => [...avePoolMismatches(), ...avePoolGradMismatches()])).toEqual([]);
  });

  it('KDNET_WASM_KERNELS=0 gives the composites: within 1e-6 of the loops, but not bitwise on CIFAR\'s overlapping windows', () => {
    const x = normals(cifar.x, 2);
    const dy = normals(pooledShape(cifar), 3);
    for (const [run, input, want] of [
      [runPool, x, caffeAveForward(cifar, x)],
      [runGrad, dy, caffeAveBackward(cifar, dy)],
    ] as const) {
      const composite = onPureWasm(() => withoutModules(() => run(cifar, input)));
      const module = onPureWasm(() => run(cifar, input));
      expect(bits(module)).toEqual(bits(want));
      expect(bits(composite)).not.toEqual(bits(want));
      expectClose(composite, module, 1e-6);
      tf.dispose([composite, module]);
    }
  });

  it('are not taken on other backends (they keep the composites)', () => {
    const cpu = tf.findBackend('cpu');
    expect(cpu).toBeDefined();
    const x = tf.zeros([1, 1, 4, 4]);
    const dy = tf.zeros([1, 1, 2, 2]);
    const attrs = { kernel: [2, 2], stride: [2, 2], pad: [0, 0], output: [2, 2] } as const;
    const grad = { ...attrs, inputShape: [1, 1, 4, 4] } as const;
    expect(avgPoolByModule(cpu!, x, attrs as never)).toBeUndefined();
    expect(avgPoolGradByModule(cpu!, dy, grad as never)).toBeUndefined();
    const taken = [avgPoolByModule(tf.backend(), x, attrs as never), avgPoolGradByModule(tf.backend(), dy, grad as never)];
    expect(taken.map((t) => t?.shape)).toEqual([[1, 1, 2, 2], [1, 1, 4, 4]]);
    for (const t of taken) tf.backend().disposeData(t!.dataId);
    tf.dispose([x, dy]);
  });

  it.skipIf(!nativeBuilt)('with the add-on, the native kernels run first and their fallbacks reach the modules', () => {
    expect(caffeAvgPoolNative.installed && caffeAvgPoolGradNative.installed).toBe(true);
    const x = normals(cifar.x, 4);
    const dy = normals(pooledShape(cifar), 5);
    const pool = vi.spyOn(nativeAddon()!, 'pool');
    try {
      const native = [runPool(cifar, x), runGrad(cifar, dy)];
      expect(pool).toHaveBeenCalledTimes(2);
      expectClose(native[0]!, tf.tensor(caffeAveForward(cifar, x), pooledShape(cifar)), 1e-6);
      expectClose(native[1]!, tf.tensor(caffeAveBackward(cifar, dy), cifar.x), 1e-6);
      tf.dispose(native);
    } finally {
      pool.mockRestore();
    }
    // The fallbacks: the kernels the native ones replaced, run directly.
    const xt = tf.tensor(x, cifar.x);
    const dyt = tf.tensor(dy, pooledShape(cifar));
    const backend = tf.backend();
    const y = caffeAvgPoolNative.original!.kernelFunc({ inputs: { x: xt }, attrs: attrsOf(cifar) as never, backend }) as tf.TensorInfo;
    const dx = caffeAvgPoolGradNative.original!.kernelFunc({ inputs: { dy: dyt }, attrs: { ...attrsOf(cifar), inputShape: cifar.x } as never, backend }) as tf.TensorInfo;
    const [yt, dxt] = [y, dx].map((info) => tf.engine().makeTensorFromTensorInfo(info));
    expect(bits(yt!)).toEqual(bits(caffeAveForward(cifar, x)));
    expect(bits(dxt!)).toEqual(bits(caffeAveBackward(cifar, dy)));
    tf.dispose([xt, dyt, yt!, dxt!]);
  });

  it('a Pooling AVE layer (CIFAR-10 quick pool2): forward and backward equal Caffe\'s loops, and the composites within 1e-6', () => {
    const layer = makeLayer('name: "pool2" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 3 stride: 2 }');
    layer.setup([cifar.x]);
    const x = normals(cifar.x, 8);
    const dy = normals(pooledShape(cifar), 9);
    const xt = tf.tensor(x, cifar.x);
    const pass = () => {
      const [y] = layer.forward([xt]);
      const dyt = tf.tensor(dy, y!.shape);
      const dx = layer.backward([xt], [y!], [dyt], [true]).bottomDiffs[0]!;
      dyt.dispose();
      return [y!, dx];
    };
    const viaModules = onPureWasm(pass);
    const viaComposites = onPureWasm(() => withoutModules(pass));
    expect(bits(viaModules[0]!)).toEqual(bits(caffeAveForward(cifar, x)));
    expect(bits(viaModules[1]!)).toEqual(bits(caffeAveBackward(cifar, dy)));
    viaModules.forEach((t, i) => expectClose(viaComposites[i]!, t, 1e-6));
    tf.dispose([xt, ...viaModules, ...viaComposites]);
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
