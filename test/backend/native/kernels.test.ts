// Each native kernel against kdnet's pure-wasm kernel on random inputs: every transpose combination of
// BatchMatMul, and Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter over strides, 'same'/'valid'/explicit
// asymmetric padding, dilation, 1×1 filters, rectangular geometry and NCHW data. Each case also checks
// that the add-on really ran (or, for what it does not take, that the wasm kernel answered).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/backend/tfjs-setup.js';
import { initBackend } from '../../../src/backend/select.js';
import { conv2dNative } from '../../../src/backend/native/conv2d.js';
import { nativeAddon } from '../../../src/backend/native/addon.js';
import { kernelSet } from '../../../src/backend/native/kernel-set.js';
import { expectClose, nativeBuilt, normal, onPureWasm, run } from './support.js';

describe.skipIf(!nativeBuilt)('native kernels on the wasm backend', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });
  afterAll(() => vi.restoreAllMocks());

  it('are installed over the wasm kernels', () => {
    const set = kernelSet();
    expect(set.native).toBe(true);
    expect(set.description).toMatch(/BatchMatMul, Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter/);
  });

  /** Runs `name` natively and on pure wasm; `expectNative` says whether the add-on must have been called. */
  function compare(fn: 'gemm' | 'conv', name: string, inputs: Record<string, tf.Tensor>, attrs: object, expectNative = true, rel?: number): void {
    const spy = vi.spyOn(nativeAddon()!, fn);
    tf.tidy(() => {
      const native = run(name, inputs, attrs);
      expect(spy).toHaveBeenCalledTimes(1);
      if (expectNative) expect(spy.mock.results[0]!.value).not.toBe(false);
      const wasm = onPureWasm(() => run(name, inputs, attrs));
      expectClose(native, wasm, rel);
    });
    spy.mockRestore();
  }

  describe('BatchMatMul', () => {
    const shapes: Array<[string, number, number, number, number, number]> = [
      ['InnerProduct-sized', 1, 64, 800, 500, 1],
      ['odd sizes', 1, 7, 13, 5, 1],
      ['batched', 3, 4, 6, 5, 3],
      ['batch times one matrix', 4, 3, 8, 2, 1],
      ['one matrix times batch', 1, 3, 8, 2, 4],
    ];
    for (const [label, ba, m, k, n, bb] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`${label} m=${m} k=${k} n=${n}, transposeA=${ta} transposeB=${tb}`, () => {
            const dims = (batch: number, r: number, c: number) => (batch > 1 || ba > 1 || bb > 1 ? [batch, r, c] : [r, c]);
            const a = normal(ta ? dims(ba, k, m) : dims(ba, m, k));
            const b = normal(tb ? dims(bb, n, k) : dims(bb, k, n));
            compare('gemm', 'BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb });
            tf.dispose([a, b]);
          });
        }
      }
    }

    it('hands batch broadcasts it does not cover to the wasm kernel', () => {
      const spy = vi.spyOn(nativeAddon()!, 'gemm');
      const a = normal([2, 1, 3, 4]);
      const b = normal([1, 3, 4, 5]);
      const y = tf.matMul(a, b);
      expect(spy).not.toHaveBeenCalled();
      expect(y.shape).toEqual([2, 3, 3, 5]);
      spy.mockRestore();
      tf.dispose([a, b, y]);
    });
  });

  type Pad = 'same' | 'valid' | number[][];
  interface ConvCase {
    label: string;
    x: number[]; // NHWC
    f: number[]; // HWIO
    strides: [number, number];
    pad: Pad;
    dilations?: [number, number];
  }
  const cases: ConvCase[] = [
    { label: 'LeNet conv1 (1 input channel)', x: [4, 28, 28, 1], f: [5, 5, 1, 20], strides: [1, 1], pad: 'valid' },
    { label: 'LeNet conv2', x: [3, 12, 12, 20], f: [5, 5, 20, 50], strides: [1, 1], pad: 'valid' },
    { label: 'stride 2, explicit asymmetric pad', x: [2, 15, 13, 8], f: [3, 3, 8, 16], strides: [2, 2], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { label: "stride 2, 'same'", x: [2, 9, 9, 4], f: [3, 3, 4, 6], strides: [2, 2], pad: 'same' },
    { label: '1×1', x: [2, 7, 7, 16], f: [1, 1, 16, 8], strides: [1, 1], pad: 'valid' },
    { label: 'rectangular kernel and stride', x: [2, 10, 12, 3], f: [3, 5, 3, 4], strides: [1, 2], pad: [[0, 0], [1, 1], [2, 2], [0, 0]] },
    { label: 'stride 3 leaving rows unused', x: [2, 11, 10, 5], f: [3, 3, 5, 7], strides: [3, 3], pad: 'valid' },
  ];
  const nchwPad = (p: Pad): Pad => (Array.isArray(p) ? [p[0]!, p[3]!, p[1]!, p[2]!] : p);
  const toNchw = (s: number[]) => [s[0]!, s[3]!, s[1]!, s[2]!];

  for (const c of [...cases, { label: 'dilation 2', x: [2, 11, 11, 3], f: [3, 3, 3, 5], strides: [1, 1], pad: [[0, 0], [2, 2], [2, 2], [0, 0]], dilations: [2, 2] } as ConvCase]) {
    it(`Conv2D: ${c.label}`, () => {
      const x = normal(c.x);
      const filter = normal(c.f);
      compare('conv', 'Conv2D', { x, filter }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations ?? [1, 1] });
      tf.dispose([x, filter]);
    });
  }

  for (const c of cases) {
    for (const nchw of [false, true]) {
      const layout = nchw ? 'NCHW' : 'NHWC';
      it(`Conv2DBackpropInput and Conv2DBackpropFilter (${layout}): ${c.label}`, () => {
        const xs = nchw ? toNchw(c.x) : c.x;
        const pad = nchw ? nchwPad(c.pad) : c.pad;
        const x = normal(xs);
        const filter = normal(c.f);
        const yShape = (run('Conv2D', { x, filter }, { strides: c.strides, pad, dataFormat: layout, dilations: 1 }) as tf.Tensor).shape;
        const dy = normal(yShape);
        compare('conv', 'Conv2DBackpropInput', { dy, filter }, { strides: c.strides, pad, dataFormat: layout, inputShape: xs });
        compare('conv', 'Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad, dataFormat: layout, filterShape: c.f }, true, 5e-5);
        tf.dispose([x, filter, dy]);
      });
    }
  }

  it('Conv2D with NCHW data runs natively too', () => {
    const x = normal([2, 8, 15, 13]);
    const filter = normal([3, 3, 8, 16]);
    compare('conv', 'Conv2D', { x, filter }, { strides: [2, 2], pad: [[0, 0], [0, 0], [1, 2], [0, 1]], dataFormat: 'NCHW', dilations: [1, 1] });
    tf.dispose([x, filter]);
  });

  it('hands a geometry oneDNN refuses (rounded-up output size) to the wasm kernel', () => {
    const x = normal([1, 10, 10, 2]);
    const filter = normal([3, 3, 2, 3]);
    const attrs = { strides: [4, 4], pad: 1, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: 'ceil' };
    const spy = vi.spyOn(nativeAddon()!, 'conv');
    const fallback = vi.spyOn(conv2dNative.original!, 'kernelFunc');
    tf.tidy(() => {
      const native = run('Conv2D', { x, filter }, attrs);
      expect(spy.mock.results[0]!.value).toBe(false);
      expect(fallback).toHaveBeenCalledTimes(1);
      // (tfjs' wasm kernel itself leaves the rounded-up row and column unwritten: only the shape is compared)
      expect(native.shape).toEqual(onPureWasm(() => run('Conv2D', { x, filter }, attrs)).shape);
    });
    spy.mockRestore();
    fallback.mockRestore();
    tf.dispose([x, filter]);
  });

  it('trains through autodiff: the gradient of a conv → matmul chain matches pure wasm', () => {
    const x = normal([2, 8, 8, 3]);
    const w1 = normal([3, 3, 3, 4]);
    const w2 = normal([6 * 6 * 4, 5]);
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.reshape(tf.conv2d(x as tf.Tensor4D, a as tf.Tensor4D, 1, 'valid'), [2, -1]), b)));
    const grads = () => tf.grads(loss)([w1, w2]);
    tf.tidy(() => {
      const native = grads();
      const wasm = onPureWasm(grads);
      native.forEach((g, i) => expectClose(g, wasm[i]!, 5e-5));
    });
    tf.dispose([x, w1, w2]);
  });
});
