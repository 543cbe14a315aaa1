// kdnet's Caffe pooling kernels (CaffeMaxPool, CaffeAvgPool, CaffeAvgPoolGrad) against a plain JS loop of
// Caffe's PoolingLayer (test/layers/vision/reference.ts) on odd geometries: padding with and without CEIL
// overhang past the padded image (AVE's divisor counts the pad but not the overhang), windows wholly in the
// padding, windows past an unpadded image, global pooling, FLOOR, rectangular windows, -inf inputs for MAX.
// On the kernel set that is active (pure wasm with KDNET_NATIVE=0), then natively: the add-on must take every
// geometry it is meant to (spied) and agree with the pure-wasm kernels.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/backend/tfjs-setup.js';
import { initBackend } from '../../../src/backend/select.js';
import { nativeAddon } from '../../../src/backend/native/addon.js';
import * as ref from '../../layers/vision/reference.js';
import { expectClose, nativeBuilt, onPureWasm, run } from './support.js';

const FLT_MAX = 3.4028234663852886e38;

interface Case {
  label: string;
  x: [number, number, number, number]; // NCHW
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  ceil?: boolean;
  /** Windows past the image: the add-on declines (oneDNN misplaces values when padding is as wide as the kernel). */
  pastImage?: boolean;
}

const cases: Case[] = [
  { label: 'LeNet 2×2/2', x: [3, 4, 8, 8], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },
  { label: 'CIFAR-quick 3×3/2 CEIL, overhang, no pad (exclude-padding path)', x: [2, 3, 8, 8], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },
  { label: '3×3/2 pad 1 with overhang in H only (padded-copy path)', x: [2, 3, 8, 7], kernel: [3, 3], stride: [2, 2], pad: [1, 1] },
  { label: '3×3/1 pad 1, no overhang (include-padding path)', x: [2, 2, 5, 6], kernel: [3, 3], stride: [1, 1], pad: [1, 1] },
  { label: '4×4/2 pad 3 (clip rule; windows wholly in the padding)', x: [1, 2, 5, 6], kernel: [4, 4], stride: [2, 2], pad: [3, 3] },
  { label: '3×3/3 pad 2 (clip rule, padded divisor)', x: [1, 2, 8, 7], kernel: [3, 3], stride: [3, 3], pad: [2, 2] },
  { label: 'rectangular 3×2, stride 2×1, pad 1×0', x: [1, 2, 7, 6], kernel: [3, 2], stride: [2, 1], pad: [1, 0] },
  { label: '4×3/3×2 pad 2×1, overhang in both axes', x: [2, 3, 8, 10], kernel: [4, 3], stride: [3, 2], pad: [2, 1] },
  { label: 'global 6×5', x: [2, 3, 6, 5], kernel: [6, 5], stride: [1, 1], pad: [0, 0] },
  { label: '2×2/2 FLOOR on an odd size', x: [2, 2, 7, 5], kernel: [2, 2], stride: [2, 2], pad: [0, 0], ceil: false },
  { label: '1×1/3 CEIL on 5×5: windows past the image', x: [1, 2, 5, 5], kernel: [1, 1], stride: [3, 3], pad: [0, 0], pastImage: true },
];

const optionsOf = (c: Case, method: 'MAX' | 'AVE'): ref.PoolOptions => ({ method, kernel: c.kernel, stride: c.stride, pad: c.pad, ceil: c.ceil });
const attrsOf = (c: Case) => ({ kernel: c.kernel, stride: c.stride, pad: c.pad, output: ref.pooledSize(c.x[2], c.x[3], optionsOf(c, 'AVE')) });

/** Values in [-2, 2) with a few -inf (MAX windows of nothing but -inf) when `withInf`. */
function input(c: Case, withInf: boolean): ref.Blob {
  return ref.blob(c.x, (i) => (withInf && Math.sin(i * 7.1) > 0.6 ? -Infinity : 2 * Math.sin(i * 1.3 + 0.4)));
}

const plain = (t: tf.Tensor) => Array.from(t.dataSync());

/** The three kernels on one case, checked against Caffe's loops. */
function checkAgainstCaffe(c: Case): void {
  for (const withInf of [false, true]) {
    const x = input(c, withInf);
    const xt = tf.tensor(x.data, x.shape);
    const y = run('CaffeMaxPool', { x: xt }, attrsOf(c));
    const expected = ref.pool(x, optionsOf(c, 'MAX'));
    expect(y.shape).toEqual(expected.y.shape);
    expect(plain(y)).toEqual(Array.from(expected.y.data));
    tf.dispose([xt, y]);
  }
  const x = input(c, false);
  const xt = tf.tensor(x.data, x.shape);
  const o = optionsOf(c, 'AVE');
  const [oh, ow] = ref.pooledSize(c.x[2], c.x[3], o);
  const dy = ref.blob([c.x[0], c.x[1], oh, ow], (i) => Math.cos(i * 0.9));
  const dyt = tf.tensor(dy.data, dy.shape);
  const expected = ref.pool(x, o, dy);
  const y = run('CaffeAvgPool', { x: xt }, attrsOf(c));
  const dx = run('CaffeAvgPoolGrad', { dy: dyt }, { ...attrsOf(c), inputShape: c.x });
  expect(y.shape).toEqual(expected.y.shape);
  expect(dx.shape).toEqual(c.x);
  expectClose(y, tf.tensor(expected.y.data, expected.y.shape), 1e-6);
  expectClose(dx, tf.tensor(expected.dx.data, expected.dx.shape), 1e-6);
  tf.dispose([xt, dyt, y, dx]);
}

describe('Caffe pooling kernels on the wasm backend (the active kernel set)', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  for (const c of cases) it(`${c.label}: MAX, AVE and AVE's gradient give Caffe's values`, () => checkAgainstCaffe(c));

  it('MAX gives -FLT_MAX for windows past the image and windows of -inf', () => {
    const x = tf.tensor4d(Array.from({ length: 25 }, (_, i) => (i < 5 ? -Infinity : -i)), [1, 1, 5, 5]);
    const y = run('CaffeMaxPool', { x }, { kernel: [1, 1], stride: [3, 3], pad: [0, 0], output: [3, 3] });
    expect(plain(y)).toEqual([-FLT_MAX, -FLT_MAX, -FLT_MAX, -15, -18, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX]);
    tf.dispose([x, y]);
  });
});

describe.skipIf(!nativeBuilt)('Caffe pooling kernels natively (oneDNN) against pure wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  /** Runs `name` natively (asserting whether the add-on took it; a fallback may call it again) and on pure wasm. */
  function both(name: string, inputs: Record<string, tf.Tensor>, attrs: object, expectNative: boolean): [tf.Tensor, tf.Tensor] {
    const spy = vi.spyOn(nativeAddon()!, 'pool');
    try {
      const native = run(name, inputs, attrs);
      expect(spy.mock.results.length).toBeGreaterThanOrEqual(1);
      expect(spy.mock.results[0]!.value).toBe(expectNative);
      return [native, onPureWasm(() => run(name, inputs, attrs))];
    } finally {
      spy.mockRestore();
    }
  }

  for (const c of cases) {
    it(`${c.label}: native MAX is exact, native AVE agrees with the composite${c.pastImage ? ' (both fall back)' : ''}`, () => {
      for (const withInf of [false, true]) {
        const x = input(c, withInf);
        const xt = tf.tensor(x.data, x.shape);
        const [native, wasm] = both('CaffeMaxPool', { x: xt }, attrsOf(c), !c.pastImage);
        expect(plain(native)).toEqual(plain(wasm));
        tf.dispose([xt, native, wasm]);
      }
      const x = input(c, false);
      const xt = tf.tensor(x.data, x.shape);
      const out = attrsOf(c).output;
      const dyt = tf.tensor(ref.blob([c.x[0], c.x[1], ...out], (i) => Math.cos(i * 0.9)).data, [c.x[0], c.x[1], ...out]);
      const [y, yWasm] = both('CaffeAvgPool', { x: xt }, attrsOf(c), !c.pastImage);
      const [dx, dxWasm] = both('CaffeAvgPoolGrad', { dy: dyt }, { ...attrsOf(c), inputShape: c.x }, !c.pastImage);
      expectClose(y, yWasm, 1e-6);
      expectClose(dx, dxWasm, 1e-6);
      tf.dispose([xt, dyt, y, yWasm, dx, dxWasm]);
    });
  }

  it('takes the CIFAR-10 quick shapes (AVE 3×3/2 on 100×32×16×16 and 100×64×8×8) and matches the composite', () => {
    for (const shape of [
      [100, 32, 16, 16],
      [100, 64, 8, 8],
    ] as const) {
      const o: ref.PoolOptions = { method: 'AVE', kernel: [3, 3], stride: [2, 2], pad: [0, 0] };
      const attrs = { kernel: [3, 3], stride: [2, 2], pad: [0, 0], output: ref.pooledSize(shape[2], shape[3], o) };
      const x = tf.randomNormal([...shape]);
      const dy = tf.randomNormal([shape[0], shape[1], ...attrs.output]);
      const [y, yWasm] = both('CaffeAvgPool', { x }, attrs, true);
      const [dx, dxWasm] = both('CaffeAvgPoolGrad', { dy }, { ...attrs, inputShape: shape }, true);
      expectClose(y, yWasm, 1e-6);
      expectClose(dx, dxWasm, 1e-6);
      tf.dispose([x, dy, y, yWasm, dx, dxWasm]);
    }
  });
});
