// MaxPool and MaxPoolGrad natively (oneDNN) against kdnet's pure-wasm kernels, with the attributes kdnet's
// Pooling layer passes (NHWC, explicit padding that realizes Caffe's CEIL rounding, one-channel planes) and
// others tfjs can pass ('same'/'valid', numeric pad with rounding, several channels). Gradients are checked
// on inputs full of ties (zeros after a ReLU, a few repeated values): each window's gradient must
// go to its FIRST maximum in scan order. Windows with nothing above -FLT_MAX must fall back to wasm.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/backend/tfjs-setup.js';
import { initBackend } from '../../../src/backend/select.js';
import { nativeAddon } from '../../../src/backend/native/addon.js';
import { kernelSet } from '../../../src/backend/native/kernel-set.js';
import { expectClose, nativeBuilt, normal, onPureWasm, run } from './support.js';

type Pad = 'same' | 'valid' | number | number[][];

/** The explicit NHWC padding kdnet's Pooling layer passes for Caffe's geometry (src/layers/vision/pooling.ts). */
function caffePad(input: [number, number], kernel: number, stride: number, pad: number, ceil = true): number[][] {
  const after = input.map((size) => {
    const span = (size + 2 * pad - kernel) / stride;
    let o = (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
    if (pad && (o - 1) * stride >= size + pad) o--;
    return Math.max(0, (o - 1) * stride + kernel - size - pad);
  });
  return [
    [0, 0],
    [pad, after[0]!],
    [pad, after[1]!],
    [0, 0],
  ];
}

interface PoolCase {
  label: string;
  x: number[]; // NHWC
  filterSize: [number, number];
  strides: [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const cases: PoolCase[] = [
  { label: "LeNet pool1 2×2/2 (N·C one-channel planes, as the layer passes them)", x: [64 * 20, 24, 24, 1], filterSize: [2, 2], strides: [2, 2], pad: caffePad([24, 24], 2, 2, 0) },
  { label: 'LeNet pool2 2×2/2 on an odd size (CEIL adds a bottom/right pad)', x: [6 * 5, 9, 7, 1], filterSize: [2, 2], strides: [2, 2], pad: caffePad([9, 7], 2, 2, 0) },
  { label: 'CIFAR-quick pool1 3×3/2 CEIL on 32×32', x: [4 * 32, 32, 32, 1], filterSize: [3, 3], strides: [2, 2], pad: caffePad([32, 32], 3, 2, 0) },
  { label: 'Caffe 3×3/2 pad 1 CEIL', x: [2 * 3, 7, 8, 1], filterSize: [3, 3], strides: [2, 2], pad: caffePad([7, 8], 3, 2, 1) },
  { label: 'Caffe 3×3/2 pad 1 CEIL where the clip rule drops a window', x: [3, 5, 5, 1], filterSize: [3, 3], strides: [2, 2], pad: caffePad([5, 5], 3, 2, 1) },
  { label: 'Caffe 2×2/2 FLOOR on an odd size', x: [4, 7, 5, 1], filterSize: [2, 2], strides: [2, 2], pad: caffePad([7, 5], 2, 2, 0, false) },
  { label: 'global 6×5', x: [5, 6, 5, 1], filterSize: [6, 5], strides: [1, 1], pad: 'valid' },
  { label: "3 channels, 3×3/1 'same'", x: [2, 9, 10, 3], filterSize: [3, 3], strides: [1, 1], pad: 'same' },
  { label: "17 channels, 2×3 filter, strides 1×2, 'valid'", x: [3, 8, 9, 17], filterSize: [2, 3], strides: [1, 2], pad: 'valid' },
  { label: "16 channels, 3×3/2 'same'", x: [2, 11, 12, 16], filterSize: [3, 3], strides: [2, 2], pad: 'same' },
  { label: 'numeric pad 1 with ceil rounding', x: [2, 7, 7, 4], filterSize: [3, 3], strides: [2, 2], pad: 1, dimRoundingMode: 'ceil' },
];

describe.skipIf(!nativeBuilt)('native max pooling on the wasm backend', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  it('is installed over the wasm kernels', () => {
    expect(kernelSet().description).toMatch(/MaxPool, MaxPoolGrad, .*CaffeMaxPool, CaffeAvgPool, CaffeAvgPoolGrad \(convolutions and pooling on oneDNN/);
  });

  /** Runs `name` natively then on pure wasm; `expectNative` says whether the add-on must have taken it. */
  function compare(name: string, inputs: Record<string, tf.Tensor>, attrs: object, expectNative: boolean, exact: boolean): void {
    const spy = vi.spyOn(nativeAddon()!, 'pool');
    try {
      tf.tidy(() => {
        const native = run(name, inputs, attrs);
        expect(spy).toHaveBeenCalledTimes(1);
        expect(spy.mock.results[0]!.value).toBe(expectNative);
        const wasm = onPureWasm(() => run(name, inputs, attrs));
        if (exact) {
          expect(native.shape).toEqual(wasm.shape);
          expect(Array.from(native.dataSync())).toEqual(Array.from(wasm.dataSync()));
        } else expectClose(native, wasm, 1e-6);
      });
    } finally {
      spy.mockRestore();
    }
  }

  const attrsOf = (c: PoolCase) => ({ filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode });

  /** Inputs with many ties: ReLU'd normals (a quarter... half zeros) and values rounded to a few levels. */
  const ties = (shape: number[]) => tf.tidy(() => tf.relu(tf.round(tf.mul(normal(shape), 2))));

  for (const c of cases) {
    it(`MaxPool: ${c.label}`, () => {
      const x = normal(c.x);
      compare('MaxPool', { x }, attrsOf(c), true, true);
      x.dispose();
    });

    it(`MaxPoolGrad: ${c.label} (random, and tied maxima)`, () => {
      for (const make of [normal, ties]) {
        const x = make(c.x);
        const y = onPureWasm(() => run('MaxPool', { x }, attrsOf(c)));
        const dy = normal(y.shape);
        // Overlapping windows sum into an element in another order than wasm does: last-bit differences only.
        const overlapping = c.strides[0] < c.filterSize[0] || c.strides[1] < c.filterSize[1];
        compare('MaxPoolGrad', { dy, input: x, output: y }, attrsOf(c), true, !overlapping);
        tf.dispose([x, y, dy]);
      }
    });
  }

  it('MaxPoolGrad sends an all-zero window’s gradient to its first element', () => {
    const x = tf.zeros([1, 4, 4, 1]);
    const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
    const dx = run('MaxPoolGrad', { dy, input: x, output: tf.zeros([1, 2, 2, 1]) }, attrs);
    expect(Array.from(dx.dataSync())).toEqual([1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
    tf.dispose([x, dy, dx]);
  });

  it('hands windows with nothing above -FLT_MAX to the wasm kernels (all -inf; a window past the image)', () => {
    const x = normal([2, 6, 6, 1]);
    const withInf = tf.tidy(() => tf.where(tf.less(x, -0.3), tf.fill(x.shape, -Infinity), x));
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
    const blocked = tf.tensor4d(Array.from({ length: 16 }, (_, i) => ([0, 1, 4, 5].includes(i) ? -Infinity : i)), [1, 4, 4, 1]);
    compare('MaxPool', { x: blocked }, attrs, false, true);
    const y = onPureWasm(() => run('MaxPool', { x: blocked }, attrs));
    compare('MaxPoolGrad', { dy: tf.onesLike(y), input: blocked, output: y }, attrs, false, true);
    // kernel 1, stride 3, CEIL: the last window starts past the image (explicit padding covers it).
    const pastAttrs = { filterSize: [1, 1], strides: [3, 3], pad: caffePad([4, 4], 1, 3, 0) };
    compare('MaxPool', { x: withInf.slice([0, 0, 0, 0], [2, 4, 4, 1]) }, pastAttrs, false, true);
    tf.dispose([x, withInf, blocked, y]);
  });
});
