// The distillation layer tests for one backend. KnowledgeDistillation's student gradient must equal T² times
// the numeric derivative of the loss it reports; TempSoftmaxCrossEntropyLoss's gradient is Hinton's
// high-temperature approximation, checked against its closed form (and, at high T, against the exact one).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import { KdnetError } from '../../../src/errors.js';
import type { Layer } from '../../../src/layers/layer.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Net } from '../../../src/net/net.js';
import { Phase } from '../../../src/net/net-state.js';
import { checkGradient, makeLayer } from '../../support/gradient-check.js';
import { close, layerFrom, randoms, run, softmaxRows } from '../loss/helpers.js';

function kdnetError(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a KdnetError').toBeInstanceOf(KdnetError);
  expect((caught as Error).message).toMatch(message);
}

/** The layer with its bottom diffs divided by `factor` (to compare T²-scaled gradients with finite differences). */
function scaledBackward(layer: Layer, factor: number): Layer {
  const original = layer.backward.bind(layer);
  layer.backward = (bottoms, tops, topDiffs, propagateDown) => {
    const r = original(bottoms, tops, topDiffs, propagateDown);
    return {
      paramDiffs: r.paramDiffs,
      bottomDiffs: r.bottomDiffs.map((d) => {
        if (!d) return null;
        const s = tf.div(d, factor);
        d.dispose();
        return s;
      }),
    };
  };
  return layer;
}

/** KL(p_t ‖ p_s) of each row at temperature T, double precision. */
function klRows(s: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number, T: number): number[] {
  const ps = softmaxRows(s, rows, cols, 1 / T);
  const pt = softmaxRows(t, rows, cols, 1 / T);
  return Array.from({ length: rows }, (_, r) => {
    let kl = 0;
    for (let c = 0; c < cols; c++) kl += pt[r * cols + c]! * (Math.log(pt[r * cols + c]!) - Math.log(ps[r * cols + c]!));
    return kl;
  });
}

const kd = (T: number, extra = '', label = false) =>
  `name: "kd" type: "KnowledgeDistillation" bottom: "s" bottom: "t" ${label ? 'bottom: "label"' : ''} top: "loss" knowledge_distillation_param { temperature: ${T} } ${extra}`;
const tsce = (T: number) => `name: "tsce" type: "TempSoftmaxCrossEntropyLoss" bottom: "s" bottom: "t" top: "loss" tempsoftmax_param { temperature: ${T} }`;

export function distillSuite(backend: 'cpu' | 'wasm'): void {
  describe(`distillation layers on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });

    describe('KnowledgeDistillation', () => {
      it('at T = 1 its gradient is the exact derivative of its loss', () => {
        const r = checkGradient(makeLayer(kd(1)), { bottoms: [{ shape: [4, 5] }, { shape: [4, 5], check: false }] });
        expect(r.failures).toEqual([]);
        expect(r.checked).toBe(20);
      });

      for (const [T, extra, withLabel] of [
        [2, '', false],
        [4, 'loss_param { normalization: BATCH_SIZE }', false],
        [3, 'loss_param { ignore_label: 1 }', true],
        [5, 'loss_param { ignore_label: 0 normalization: NONE }', true],
      ] as const) {
        it(`at T = ${T} (${extra || 'defaults'}) its gradient is T² × the derivative of its loss, spatial`, () => {
          const layer = scaledBackward(makeLayer(kd(T, extra, withLabel)), T * T);
          const bottoms = [{ shape: [2, 3, 2, 2], values: randoms(24, 40 + T, 3) }, { shape: [2, 3, 2, 2], values: randoms(24, 50 + T, 3), check: false }];
          if (withLabel) bottoms.push({ shape: [2, 1, 2, 2], values: Float32Array.from([0, 1, 2, 1, 1, 0, 2, 2]), check: false });
          const r = checkGradient(layer, { bottoms, step: 1e-2 });
          expect(r.failures).toEqual([]);
          expect(r.checked).toBe(24);
        });
      }

      it('reports KL(teacher ‖ student) at temperature T, normalized like SoftmaxWithLoss, skipping ignored positions', () => {
        const s = Array.from(randoms(12, 61, 2));
        const t = Array.from(randoms(12, 62, 2));
        const label = [0, 7, 2, 1];
        const kl = klRows(s, t, 4, 3, 2);
        const sum = kl[0]! + kl[2]! + kl[3]!;
        for (const [mode, norm] of [['VALID', 3], ['FULL', 4], ['BATCH_SIZE', 4], ['NONE', 1]] as const) {
          const r = run(layerFrom(kd(2, `loss_param { ignore_label: 7 normalization: ${mode} }`, true)), [
            { shape: [4, 3], values: s },
            { shape: [4, 3], values: t },
            { shape: [4], values: label },
          ], { propagate: [true, false, false], topDiffs: [0.5] });
          close(r.tops[0], [sum / norm], 1e-4);
          const ps = softmaxRows(s, 4, 3, 0.5);
          const pt = softmaxRows(t, 4, 3, 0.5);
          close(r.diffs[0], ps.map((p, i) => (Math.floor(i / 3) === 1 ? 0 : (0.5 * 2 * (p - pt[i]!)) / norm)), 1e-4);
          expect(r.diffs[0]![3]).toBe(0);
          expect(r.diffs[1]).toBeNull();
          expect(r.diffs[2]).toBeNull();
        }
      });

      it('without labels VALID divides by N·H·W; teacher == student gives zero loss and gradient', () => {
        const s = Array.from(randoms(24, 63));
        const r = run(layerFrom(kd(3)), [{ shape: [2, 3, 4], values: s }, { shape: [2, 3, 4], values: s }], { propagate: [true, false] });
        expect(Math.abs(r.tops[0]![0]!)).toBeLessThan(1e-6);
        expect(r.diffs[0]!.every((v) => Math.abs(v) < 1e-7)).toBe(true);
        // 2×3×4 with axis 1: 8 positions of 3 classes.
        const t = Array.from(randoms(24, 64));
        const v = run(layerFrom(kd(3)), [{ shape: [2, 3, 4], values: s }, { shape: [2, 3, 4], values: t }]).tops[0]![0]!;
        const none = run(layerFrom(kd(3, 'loss_param { normalization: NONE }')), [{ shape: [2, 3, 4], values: s }, { shape: [2, 3, 4], values: t }]).tops[0]![0]!;
        expect(v).toBeCloseTo(none / 8, 5);
      });

      it('uses softmax_param.axis', () => {
        const s = Array.from(randoms(12, 65));
        const t = Array.from(randoms(12, 66));
        const r = run(layerFrom(kd(2, 'softmax_param { axis: -1 }')), [{ shape: [3, 4], values: s }, { shape: [3, 4], values: t }]);
        const kl = klRows(s, t, 3, 4, 2);
        close(r.tops[0], [(kl[0]! + kl[1]! + kl[2]!) / 3], 1e-4);
      });

      it('rejects the configurations the fork rejects, and a non-positive temperature', () => {
        kdnetError(() => layerFrom(kd(2, '', true)).setup([[2, 3], [2, 3], [2]]), /label bottom \('label'\) needs loss_param \{ ignore_label/);
        kdnetError(() => layerFrom(kd(2, 'loss_param { ignore_label: 0 }')).setup([[2, 3], [2, 3]]), /ignore_label needs the labels as a third bottom/);
        kdnetError(() => layerFrom(kd(0)).setup([[2, 3], [2, 3]]), /temperature must be a positive number, got 0/);
        kdnetError(() => layerFrom(kd(-2)).setup([[2, 3], [2, 3]]), /temperature must be a positive number/);
        kdnetError(() => layerFrom(kd(2)).setup([[2, 3], [2, 4]]), /teacher logits 't' \[2, 4\] must match the student logits 's' \[2, 3\]/);
        kdnetError(() => layerFrom(kd(2)).setup([[2, 3], [3, 3]]), /same first dimension/);
        kdnetError(() => layerFrom(kd(2, 'loss_param { ignore_label: 0 }', true)).setup([[2, 3, 2], [2, 3, 2], [2]]), /holds 2 labels for 4 positions/);
      });

      it('never sends a gradient to the teacher or the labels', () => {
        const l = layerFrom(kd(2, 'loss_param { ignore_label: 0 }', true));
        expect(l.bottomCount()).toEqual([2, 3]);
        expect([0, 1, 2].map((i) => l.allowForceBackward(i))).toEqual([true, false, false]);
        const inputs = [{ shape: [1, 2], values: [0, 1] }, { shape: [1, 2], values: [1, 0] }, { shape: [1], values: [1] }];
        kdnetError(() => run(l, inputs, { propagate: [true, true, false] }), /cannot backpropagate to its teacher \(soft label\) input 't'/);
        kdnetError(() => run(l, inputs, { propagate: [true, false, true] }), /cannot backpropagate to its label input 'label'/);
      });

      it('in a net: a frozen teacher trains only the student; an unfrozen one is refused like Caffe', () => {
        const text = (teacherParams: string) => `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "teacher" type: "InnerProduct" bottom: "x" top: "t" ${teacherParams} inner_product_param { num_output: 4 weight_filler { type: "gaussian" } } }
layer { name: "student" type: "InnerProduct" bottom: "x" top: "s" inner_product_param { num_output: 4 weight_filler { type: "gaussian" } } }
layer { name: "kd" type: "KnowledgeDistillation" bottom: "s" bottom: "t" top: "loss" knowledge_distillation_param { temperature: 2 } }`;
        const build = (t: string) => new Net(parseCaffeText(text(t), 'NetParameter', 'net.prototxt').message, { phase: Phase.TRAIN, seed: 9 });
        const frozen = build('param { lr_mult: 0 } param { lr_mult: 0 }');
        frozen.setInput('x', tf.tensor2d([[1, 2, 3], [0, -1, 1]]));
        frozen.forward();
        frozen.backward();
        expect(frozen.paramDiff('student', 0)).toBeDefined();
        expect(frozen.paramDiff('teacher', 0)).toBeUndefined();
        expect(frozen.blobDiff('t')).toBeUndefined();
        frozen.dispose();
        const live = build('');
        live.setInput('x', tf.tensor2d([[1, 2, 3], [0, -1, 1]]));
        live.forward();
        expect(() => live.backward()).toThrow(/cannot backpropagate to its teacher \(soft label\) input 't'.*lr_mult: 0/);
        live.dispose();
      });
    });

    describe('TempSoftmaxCrossEntropyLoss', () => {
      /** Each item's values minus their mean, then the loss and the layer's gradient formula, in double precision. */
      function reference(s: number[], t: number[], shape: number[], T: number, lw: number) {
        const n = shape[0]!;
        const per = s.length / n;
        const zm = (x: number[]) =>
          x.map((v, i) => {
            const item = Math.floor(i / per);
            const mean = x.slice(item * per, (item + 1) * per).reduce((a, b) => a + b, 0) / per;
            return v - mean;
          });
        const zs = zm(s);
        const zt = zm(t);
        // Softmax over axis 1 of N×C×(rest): group by (item, inner position).
        const c = shape[1]!;
        const inner = per / c;
        const ps = new Array<number>(s.length);
        const pt = new Array<number>(s.length);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < inner; j++) {
            const idx = Array.from({ length: c }, (_, k) => i * per + k * inner + j);
            const a = softmaxRows(idx.map((q) => zs[q]!), 1, c, 1 / T);
            const b = softmaxRows(idx.map((q) => zt[q]!), 1, c, 1 / T);
            idx.forEach((q, k) => ((ps[q] = a[k]!), (pt[q] = b[k]!)));
          }
        const loss = -pt.reduce((acc, p, i) => acc + p * Math.log(ps[i]!), 0) / n;
        const grad = zs.map((v, i) => ((v - zt[i]!) / (c * T * T)) * (lw / n));
        const exact = ps.map((p, i) => ((p - pt[i]!) / T) * (lw / n));
        return { loss, grad, exact };
      }

      for (const [T, shape, lw] of [
        [2, [4, 6], 1],
        [5, [10, 5], 3.7],
        [3, [2, 5, 2, 3], 1],
      ] as const) {
        it(`T = ${T}, ${shape.join('×')}, loss_weight ${lw}: loss is the zero-meaned cross-entropy, gradient (z_s − z_t)/(C·T²)·lw/N`, () => {
          const count = shape.reduce((a, b) => a * b, 1);
          const s = Array.from(randoms(count, 70 + T, 2));
          const t = Array.from(randoms(count, 80 + T, 2));
          const ref = reference(s, t, [...shape], T, lw);
          const r = run(layerFrom(tsce(T)), [{ shape: [...shape], values: s }, { shape: [...shape], values: t }], { propagate: [true, false], topDiffs: [lw] });
          close(r.tops[0], [ref.loss], 1e-5);
          close(r.diffs[0], ref.grad, 1e-5);
          expect(r.diffs[1]).toBeNull();
          // It is an approximation: at this temperature it differs from the exact derivative.
          const gap = Math.max(...ref.grad.map((g, i) => Math.abs(g - ref.exact[i]!)));
          expect(gap).toBeGreaterThan(1e-4);
        });
      }

      it('approaches the exact gradient at high temperature', () => {
        const s = Array.from(randoms(12, 91));
        const t = Array.from(randoms(12, 92));
        const T = 200;
        const ref = reference(s, t, [3, 4], T, 1);
        const r = run(layerFrom(tsce(T)), [{ shape: [3, 4], values: s }, { shape: [3, 4], values: t }], { propagate: [true, false] });
        const scale = Math.max(...ref.exact.map(Math.abs));
        r.diffs[0]!.forEach((g, i) => expect(Math.abs(g - ref.exact[i]!)).toBeLessThan(0.05 * scale));
      });

      it('requires T > 1 and equal counts, and refuses a gradient into the target', () => {
        kdnetError(() => layerFrom(tsce(1)).setup([[2, 3], [2, 3]]), /temperature must be greater than 1, got 1/);
        kdnetError(() => layerFrom('name: "x" type: "TempSoftmaxCrossEntropyLoss" bottom: "s" bottom: "t" top: "loss" tempsoftmax_param { temperature: 0.5 }').setup([[2, 3], [2, 3]]), /greater than 1/);
        kdnetError(() => layerFrom(tsce(2)).setup([[2, 3], [2, 4]]), /same count/);
        const l = layerFrom(tsce(2));
        expect([l.allowForceBackward(0), l.allowForceBackward(1)]).toEqual([true, false]);
        kdnetError(() => run(l, [{ shape: [1, 2], values: [0, 1] }, { shape: [1, 2], values: [1, 0] }], { propagate: [true, true] }), /cannot backpropagate to its target input 't'/);
      });

      it('defaults to T = 2', () => {
        const s = Array.from(randoms(8, 93));
        const t = Array.from(randoms(8, 94));
        const a = run(layerFrom('name: "x" type: "TempSoftmaxCrossEntropyLoss" bottom: "s" bottom: "t" top: "loss"'), [{ shape: [2, 4], values: s }, { shape: [2, 4], values: t }]);
        const b = run(layerFrom(tsce(2)), [{ shape: [2, 4], values: s }, { shape: [2, 4], values: t }]);
        expect(a.tops[0]).toEqual(b.tops[0]);
      });
    });
  });
}
