// The loss layer tests for one backend: finite-difference gradient checks of every loss with a backward,
// hand-computed values for the edge cases the golden fixtures do not cover, and the configuration errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import { KdnetError } from '../../../src/errors.js';
import { caffeType, newMessage } from '../../../src/proto/schema.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Net } from '../../../src/net/net.js';
import { Phase } from '../../../src/net/net-state.js';
import { checkGradient, makeLayer } from '../../support/gradient-check.js';
import { close, layerFrom, randoms, run, softmaxRows } from './helpers.js';

const f32 = (v: number[]) => Float32Array.from(v);

function expectClean(result: { checked: number; failures: string[] }): void {
  expect(result.failures).toEqual([]);
  expect(result.checked).toBeGreaterThan(0);
}

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

const tmpDirs: string[] = [];
function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

function writeH(dir: string, name: string, c: number, values: number[]): string {
  const file = path.join(dir, name);
  const blob = newMessage('BlobProto', { shape: newMessage('BlobShape', { dim: [1, 1, c, c] }), data: values });
  fs.writeFileSync(file, caffeType('BlobProto').encode(blob).finish());
  return file;
}

/** Labels in [0, classes), with every `ignoreEvery`-th one replaced by `ignore`. */
function labels(n: number, classes: number, seed: number, ignore?: number, ignoreEvery = 4): Float32Array {
  const r = randoms(n, seed);
  return Float32Array.from(r, (v, i) => (ignore !== undefined && i % ignoreEvery === 1 ? ignore : Math.floor(Math.abs(v * 7919)) % classes));
}

export function lossSuite(backend: 'cpu' | 'wasm'): void {
  describe(`loss layers on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });
    afterAll(() => {
      for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });

    describe('gradient checks', () => {
      it('SoftmaxWithLoss, 2-D, default VALID', () => {
        const layer = makeLayer('name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "y" top: "loss"');
        expectClean(checkGradient(layer, { bottoms: [{ shape: [5, 4] }, { shape: [5], values: labels(5, 4, 1), check: false }] }));
      });

      for (const norm of ['FULL', 'VALID', 'BATCH_SIZE', 'NONE']) {
        it(`SoftmaxWithLoss, spatial with ignore_label, ${norm}`, () => {
          const layer = makeLayer(`name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "y" top: "loss" loss_param { ignore_label: 3 normalization: ${norm} }`);
          expectClean(
            checkGradient(layer, {
              bottoms: [{ shape: [2, 4, 3, 2] }, { shape: [2, 1, 3, 2], values: labels(12, 4, 2, 3), check: false }],
              maxElements: 48,
            }),
          );
        });
      }

      it('SoftmaxWithLoss over the last axis (softmax_param.axis: -1)', () => {
        const layer = makeLayer('name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "y" top: "loss" softmax_param { axis: -1 }');
        expectClean(checkGradient(layer, { bottoms: [{ shape: [2, 3, 4] }, { shape: [2, 3], values: labels(6, 4, 3), check: false }] }));
      });

      it('EuclideanLoss, both bottoms (second one of another shape with the same count per item)', () => {
        const layer = makeLayer('name: "l" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss"');
        expectClean(checkGradient(layer, { bottoms: [{ shape: [3, 4] }, { shape: [3, 2, 2] }] }));
      });

      it('SigmoidCrossEntropyLoss, soft targets (BATCH_SIZE default)', () => {
        const layer = makeLayer('name: "l" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "t" top: "loss"');
        const t = Float32Array.from(randoms(24, 4), (v) => 1 / (1 + Math.exp(-v)));
        expectClean(checkGradient(layer, { bottoms: [{ shape: [3, 8], values: randoms(24, 5, 3) }, { shape: [3, 8], values: t, check: false }] }));
      });

      it('SigmoidCrossEntropyLoss, binary targets with ignore_label, VALID', () => {
        const layer = makeLayer('name: "l" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "t" top: "loss" loss_param { ignore_label: -1 normalization: VALID }');
        expectClean(checkGradient(layer, { bottoms: [{ shape: [2, 3, 2, 2] }, { shape: [2, 3, 2, 2], values: labels(24, 2, 6, -1, 3), check: false }] }));
      });

      for (const norm of ['L1', 'L2']) {
        it(`HingeLoss ${norm}`, () => {
          const layer = makeLayer(`name: "l" type: "HingeLoss" bottom: "x" bottom: "y" top: "loss" hinge_loss_param { norm: ${norm} }`);
          // Keep every score away from the kinks at ±1.
          const x = Float32Array.from(randoms(20, 7, 1.5), (v) => (Math.abs(Math.abs(v) - 1) < 0.1 ? v + 0.3 : v));
          expectClean(checkGradient(layer, { bottoms: [{ shape: [5, 4], values: x }, { shape: [5], values: labels(5, 4, 8), check: false }] }));
        });
      }

      it('InfogainLoss with H as a third bottom, spatial, ignore_label', () => {
        const layer = makeLayer('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" bottom: "H" top: "loss" loss_param { ignore_label: 0 }');
        const H = Float32Array.from(randoms(9, 9), (v) => Math.abs(v));
        expectClean(
          checkGradient(layer, {
            bottoms: [{ shape: [2, 3, 2, 2] }, { shape: [2, 2, 2], values: labels(8, 3, 10, 0), check: false }, { shape: [3, 3], values: H, check: false }],
          }),
        );
      });

      it('InfogainLoss with H from infogain_loss_param.source and axis: 2', () => {
        const dir = tmpDir('kdnet-infogain-');
        writeH(dir, 'H.binaryproto', 4, Array.from(randoms(16, 11), (v) => Math.abs(v)));
        const layer = layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "H.binaryproto" axis: 2 }', dir);
        expectClean(checkGradient(layer, { bottoms: [{ shape: [2, 3, 4] }, { shape: [2, 3], values: labels(6, 4, 12), check: false }] }));
      });

      it('MultinomialLogisticLoss on probabilities', () => {
        const layer = makeLayer('name: "l" type: "MultinomialLogisticLoss" bottom: "p" bottom: "y" top: "loss"');
        const p = Float32Array.from(randoms(20, 13), (v) => 0.2 + Math.abs(v));
        expectClean(checkGradient(layer, { bottoms: [{ shape: [5, 4], values: p }, { shape: [5], values: labels(5, 4, 14), check: false }], step: 1e-3 }));
      });

      for (const legacy of [false, true]) {
        it(`ContrastiveLoss${legacy ? ' legacy_version' : ''}`, () => {
          const layer = makeLayer(
            `name: "l" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "s" top: "loss" contrastive_loss_param { margin: 3 legacy_version: ${legacy} }`,
          );
          const sim = f32([1, 0, 0, 1, 0, 0]);
          expectClean(checkGradient(layer, { bottoms: [{ shape: [6, 3] }, { shape: [6, 3] }, { shape: [6], values: sim, check: false }] }));
        });
      }
    });

    describe('SoftmaxWithLoss', () => {
      const text = (extra = '') => `name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "y" top: "loss" ${extra}`;

      it('matches a hand computation with ignore_label under each normalization', () => {
        const x = Array.from(randoms(12, 21));
        const y = [0, 2, 1, 2]; // 4 rows of 3 classes; label 2 is ignored
        const p = softmaxRows(x, 4, 3);
        const nll = [0, 2].map((r) => -Math.log(p[r * 3 + y[r]!]!));
        const sum = nll[0]! + nll[1]!;
        for (const [mode, norm] of [['FULL', 4], ['VALID', 2], ['BATCH_SIZE', 4], ['NONE', 1]] as const) {
          const r = run(layerFrom(text(`loss_param { ignore_label: 2 normalization: ${mode} }`)), [
            { shape: [4, 3], values: x },
            { shape: [4], values: y },
          ], { propagate: [true, false], topDiffs: [2] });
          close(r.tops[0], [sum / norm]);
          expect(r.topShapes[0]).toEqual([]);
          const g = p.map((v, i) => {
            const row = Math.floor(i / 3);
            if (y[row] === 2) return 0;
            return (2 * (v - (i % 3 === y[row] ? 1 : 0))) / norm;
          });
          close(r.diffs[0], g);
          expect(r.diffs[1]).toBeNull();
        }
      });

      it('reads the legacy normalize flag only when normalization is unset', () => {
        const inputs = [{ shape: [2, 3, 2], values: Array.from(randoms(12, 22)) }, { shape: [2, 2], values: [0, 1, 2, 1] }];
        const valid = run(layerFrom(text('loss_param { normalize: true }')), inputs).tops[0]![0]!;
        const batch = run(layerFrom(text('loss_param { normalize: false }')), inputs).tops[0]![0]!;
        const none = run(layerFrom(text('loss_param { normalize: false normalization: NONE }')), inputs).tops[0]![0]!;
        expect(batch).toBeCloseTo(valid * 2, 5); // 4 positions vs 2 items
        expect(none).toBeCloseTo(valid * 4, 5);
      });

      it('divides by at least 1: every label ignored gives loss 0 and zero gradient', () => {
        const r = run(layerFrom(text('loss_param { ignore_label: 7 }')), [
          { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
          { shape: [2], values: [7, 7] },
        ], { propagate: [true, false] });
        expect(r.tops[0]).toEqual([0]);
        expect(r.diffs[0]!.every((v) => v === 0)).toBe(true);
      });

      it('truncates float labels toward zero like static_cast<int>', () => {
        const x = [0.1, 0.5, -0.3, 1, 2, 3];
        const a = run(layerFrom(text('loss_param { ignore_label: -1 }')), [{ shape: [2, 3], values: x }, { shape: [2], values: [2.9, -1.7] }]);
        const b = run(layerFrom(text('loss_param { ignore_label: -1 }')), [{ shape: [2, 3], values: x }, { shape: [2], values: [2, -1] }]);
        expect(a.tops[0]).toEqual(b.tops[0]);
        const c = run(layerFrom(text()), [{ shape: [2, 3], values: x }, { shape: [2], values: [-0.5, 0.99] }]);
        const d = run(layerFrom(text()), [{ shape: [2, 3], values: x }, { shape: [2], values: [0, 0] }]);
        expect(c.tops[0]).toEqual(d.tops[0]);
      });

      it('clamps a vanishing probability at FLT_MIN like Caffe', () => {
        const r = run(layerFrom(text()), [{ shape: [1, 2], values: [0, 200] }, { shape: [1], values: [0] }], { propagate: [true, false] });
        expect(r.tops[0]![0]).toBeCloseTo(-Math.log(1.1754943508222875e-38), 3);
        close(r.diffs[0], [-1, 1]); // prob − onehot, not the derivative of the clamped log
      });

      it('rejects labels outside [0, C) instead of reading out of bounds', () => {
        kdnetError(() => run(layerFrom(text()), [{ shape: [2, 3], values: [1, 2, 3, 4, 5, 6] }, { shape: [2], values: [0, 3] }]), /label 3 at position 1 of 'y' is not a class index in \[0, 3\)/);
      });

      it('refuses to backpropagate into the label, as Caffe aborts', () => {
        kdnetError(
          () => run(layerFrom(text()), [{ shape: [2, 3], values: [1, 2, 3, 4, 5, 6] }, { shape: [2], values: [0, 1] }], { propagate: [true, true] }),
          /cannot backpropagate to its label input 'y'/,
        );
      });

      it('rejects a second top, a label count mismatch, a first-dimension mismatch and a bad axis', () => {
        kdnetError(() => layerFrom(`${text()} top: "prob"`).setup([[2, 3], [2]]), /second top .* separate Softmax layer/);
        kdnetError(() => layerFrom(text()).setup([[2, 3, 2], [2]]), /number of labels must match number of predictions.*4 positions.*holds 2 labels/);
        kdnetError(() => layerFrom(text()).setup([[2, 3], [3]]), /same first dimension/);
        kdnetError(() => layerFrom(text('softmax_param { axis: 2 }')).setup([[2, 3], [2]]), /axis 2 is out of range for the 2-D bottom/);
      });

      it('declares itself a loss with no forced gradient into the label', () => {
        const l = layerFrom(text());
        expect(l.isLoss()).toBe(true);
        expect([l.allowForceBackward(0), l.allowForceBackward(1)]).toEqual([true, false]);
      });
    });

    describe('EuclideanLoss', () => {
      it('is Σ(a−b)²/2N with opposite gradients scaled by the top diff', () => {
        const r = run(layerFrom('name: "l" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss"'), [
          { shape: [2, 2], values: [1, 2, 3, 4] },
          { shape: [2, 2], values: [0, 0, 1, 1] },
        ], { propagate: [true, true], topDiffs: [3] });
        close(r.tops[0], [(1 + 4 + 4 + 9) / 4]);
        close(r.diffs[0], [1.5, 3, 3, 4.5]);
        close(r.diffs[1], [-1.5, -3, -3, -4.5]);
      });

      it('allows force_backward into both bottoms and checks the per-item size', () => {
        const l = layerFrom('name: "l" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss"');
        expect([l.allowForceBackward(0), l.allowForceBackward(1)]).toEqual([true, true]);
        kdnetError(() => l.setup([[2, 3], [2, 4]]), /same dimension: 'a' \[2, 3\] has 3 values per item but 'b' \[2, 4\] has 4/);
      });
    });

    describe('SigmoidCrossEntropyLoss', () => {
      const text = (extra = '') => `name: "l" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "t" top: "loss" ${extra}`;

      it('is stable for large logits and divides by the batch size by default', () => {
        const r = run(layerFrom(text()), [{ shape: [2, 2], values: [100, -100, 0, 3] }, { shape: [2, 2], values: [0, 1, 0.5, 1] }], { propagate: [true, false] });
        const ce = (x: number, t: number) => -(x * t - Math.max(x, 0) - Math.log(1 + Math.exp(-Math.abs(x))));
        close(r.tops[0], [(ce(100, 0) + ce(-100, 1) + ce(0, 0.5) + ce(3, 1)) / 2]);
        const sig = (x: number) => 1 / (1 + Math.exp(-x));
        close(r.diffs[0], [(sig(100) - 0) / 2, (sig(-100) - 1) / 2, 0, (sig(3) - 1) / 2]);
      });

      it('skips targets equal to ignore_label after truncation and counts them out of VALID', () => {
        const x = [0.3, -0.2, 1.1, 0.7];
        const r = run(layerFrom(text('loss_param { ignore_label: 2 normalization: VALID }')), [{ shape: [1, 4], values: x }, { shape: [1, 4], values: [1, 2.5, 0, 2] }], {
          propagate: [true, false],
        });
        const ce = (v: number, t: number) => -(v * t - Math.max(v, 0) - Math.log(1 + Math.exp(-Math.abs(v))));
        close(r.tops[0], [(ce(0.3, 1) + ce(1.1, 0)) / 2]);
        expect([r.diffs[0]![1], r.diffs[0]![3]]).toEqual([0, 0]);
      });

      it('rejects inputs of different counts and a gradient into the target', () => {
        kdnetError(() => layerFrom(text()).setup([[2, 3], [2, 4]]), /same count/);
        kdnetError(() => run(layerFrom(text()), [{ shape: [1, 2], values: [0, 1] }, { shape: [1, 2], values: [0, 1] }], { propagate: [true, true] }), /cannot backpropagate to its target input 't'/);
      });
    });

    describe('HingeLoss', () => {
      it('L1 and L2 match a hand computation', () => {
        const x = [0.5, -2, 0.2, 3, -0.4, 0.9]; // 2 items × 3 classes
        const y = [0, 1];
        const t = [1, -1, -1, -1, 1, -1];
        const m = x.map((v, i) => Math.max(0, 1 - t[i]! * v));
        for (const [norm, loss] of [['L1', m.reduce((a, b) => a + b) / 2], ['L2', m.reduce((a, b) => a + b * b, 0) / 2]] as const) {
          const r = run(layerFrom(`name: "l" type: "HingeLoss" bottom: "x" bottom: "y" top: "loss" hinge_loss_param { norm: ${norm} }`), [
            { shape: [2, 3], values: x },
            { shape: [2], values: y },
          ], { propagate: [true, false] });
          close(r.tops[0], [loss]);
          close(r.diffs[0], m.map((v, i) => (norm === 'L1' ? (v > 0 ? -t[i]! : 0) : -2 * v * t[i]!) / 2));
        }
      });

      it('rejects an out-of-range label', () => {
        kdnetError(() => run(layerFrom('name: "l" type: "HingeLoss" bottom: "x" bottom: "y" top: "loss"'), [{ shape: [1, 3], values: [1, 2, 3] }, { shape: [1], values: [5] }]), /not a class index in \[0, 3\)/);
      });
    });

    describe('InfogainLoss', () => {
      const dir = tmpDir('kdnet-infogain-');
      const x = Array.from(randoms(12, 31));
      const y = [2, 0, 1, 0];

      it('with H = I equals SoftmaxWithLoss (value and gradient)', () => {
        writeH(dir, 'I3.binaryproto', 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        const inputs = [{ shape: [4, 3], values: x }, { shape: [4], values: y }];
        const a = run(layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "I3.binaryproto" }', dir), inputs, { propagate: [true, false] });
        const b = run(layerFrom('name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "y" top: "loss"'), inputs, { propagate: [true, false] });
        close(a.tops[0], b.tops[0]!);
        close(a.diffs[0], b.diffs[0]!);
      });

      it('weights the log-probabilities by the label row of H, with ignore_label and BATCH_SIZE', () => {
        const H = [2, 1, 0, 0.5, 1, 0, 0, 0, 3];
        const p = softmaxRows(x, 4, 3);
        let sum = 0;
        y.forEach((c, r) => {
          if (c === 1) return;
          for (let l = 0; l < 3; l++) sum -= H[c * 3 + l]! * Math.log(p[r * 3 + l]!);
        });
        const r = run(
          layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" bottom: "H" top: "loss" loss_param { ignore_label: 1 normalization: BATCH_SIZE }'),
          [{ shape: [4, 3], values: x }, { shape: [4], values: y }, { shape: [1, 1, 3, 3], values: H }],
          { propagate: [true, false, false] },
        );
        close(r.tops[0], [sum / 4]);
        const g = p.map((v, i) => {
          const row = Math.floor(i / 3);
          const c = y[row]!;
          if (c === 1) return 0;
          const rowSum = H[c * 3]! + H[c * 3 + 1]! + H[c * 3 + 2]!;
          return (v * rowSum - H[c * 3 + (i % 3)]!) / 4;
        });
        close(r.diffs[0], g);
      });

      it('resolves source against the net folder first, then the working directory', () => {
        const other = tmpDir('kdnet-infogain-other-');
        writeH(other, 'H.binaryproto', 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        writeH(dir, 'H.binaryproto', 3, [2, 0, 0, 0, 2, 0, 0, 0, 2]);
        const rel = path.relative(process.cwd(), path.join(other, 'H.binaryproto'));
        const inputs = [{ shape: [4, 3], values: x }, { shape: [4], values: y }];
        const inBase = run(layerFrom(`name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "H.binaryproto" }`, dir), inputs);
        const viaCwd = run(layerFrom(`name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "${rel}" }`, dir), inputs);
        close(inBase.tops[0], [2 * viaCwd.tops[0]![0]!]);
      });

      it('gives the probabilities as a second top when loss_weight is given once per top', () => {
        writeH(dir, 'I3.binaryproto', 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        const l = layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" top: "prob" loss_weight: 1 loss_weight: 0 infogain_loss_param { source: "I3.binaryproto" }', dir);
        const r = run(l, [{ shape: [2, 3, 2], values: x }, { shape: [2, 2], values: [0, 1, 2, 0] }], { propagate: [true, false] });
        expect(r.topShapes[1]).toEqual([2, 3, 2]);
        // Softmax over axis 1 of a 2×3×2 blob: position (n, w) takes values x[n, :, w].
        const expected: number[] = new Array(12);
        for (let n = 0; n < 2; n++)
          for (let w = 0; w < 2; w++) {
            const p = softmaxRows([0, 1, 2].map((c) => x[n * 6 + c * 2 + w]!), 1, 3);
            p.forEach((v, c) => (expected[n * 6 + c * 2 + w] = v));
          }
        close(r.tops[1], expected);
        kdnetError(() => layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" top: "prob" infogain_loss_param { source: "I3.binaryproto" }', dir).setup([[2, 3], [2]]), /loss_weight once per top/);
      });

      it('rejects a missing source, a missing file, a wrong-sized H, normalize and a gradient into H', () => {
        kdnetError(() => layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss"', dir).setup([[2, 3], [2]]), /source must name the H matrix file/);
        kdnetError(() => layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "nope.binaryproto" }', dir).setup([[2, 3], [2]]), /cannot find the infogain matrix 'nope.binaryproto'/);
        writeH(dir, 'I3.binaryproto', 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        kdnetError(() => layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "I3.binaryproto" }', dir).setup([[2, 4], [2]]), /H must be 4×4 for 4 classes/);
        kdnetError(() => layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" bottom: "H" top: "loss"').setup([[2, 3], [2], [2, 3]]), /H must be 3×3/);
        kdnetError(() => layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" loss_param { normalize: true } infogain_loss_param { source: "I3.binaryproto" }', dir).setup([[2, 3], [2]]), /normalize is deprecated/);
        kdnetError(
          () => run(layerFrom('name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" bottom: "H" top: "loss"'), [{ shape: [1, 2], values: [0, 1] }, { shape: [1], values: [1] }, { shape: [2, 2], values: [1, 0, 0, 1] }], { propagate: [true, false, true] }),
          /cannot backpropagate to its infogain matrix input 'H'/,
        );
      });
    });

    describe('MultinomialLogisticLoss', () => {
      it('is −Σ log p[label] / N with the 1e−20 clamp, and its gradient −1/(N·p)', () => {
        const r = run(layerFrom('name: "l" type: "MultinomialLogisticLoss" bottom: "p" bottom: "y" top: "loss"'), [
          { shape: [2, 3], values: [0.2, 0.5, 0.3, 0, 0.4, 0.6] },
          { shape: [2], values: [1, 0] },
        ], { propagate: [true, false] });
        close(r.tops[0], [(-Math.log(0.5) - Math.log(1e-20)) / 2], 1e-5);
        close(r.diffs[0], [0, -1 / (2 * 0.5), 0, -1 / (2 * 1e-20), 0, 0], 1e-5);
        kdnetError(() => layerFrom('name: "l" type: "MultinomialLogisticLoss" bottom: "p" bottom: "y" top: "loss"').setup([[2, 3], [2, 3]]), /one value per item/);
      });
    });

    describe('ContrastiveLoss', () => {
      it('matches a hand computation for similar and dissimilar pairs, modern and legacy', () => {
        const a = [0, 0, 1, 1, 3, 0];
        const b = [0, 1, 1, 1.5, 0, 0];
        const sim = [1, 0, 0];
        const d2 = [1, 0.25, 9];
        for (const legacy of [false, true]) {
          const r = run(layerFrom(`name: "l" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "s" top: "loss" contrastive_loss_param { margin: 2 legacy_version: ${legacy} }`), [
            { shape: [3, 2], values: a },
            { shape: [3, 2], values: b },
            { shape: [3], values: sim },
          ], { propagate: [true, true, false] });
          const dis = (v: number) => (legacy ? Math.max(2 - v, 0) : Math.max(2 - Math.sqrt(v), 0) ** 2);
          close(r.tops[0], [(d2[0]! + dis(d2[1]!) + dis(d2[2]!)) / 3 / 2]);
          // pair 1: diff (0, −0.5); modern coefficient −(2 − 0.5)/(0.5 + 1e−4), legacy −1; pair 2 beyond the margin.
          const c1 = legacy ? -1 : -(2 - 0.5) / (0.5 + 1e-4);
          const ga = [0, -1 / 3, 0, (c1 * -0.5) / 3, 0, 0];
          close(r.diffs[0], ga);
          close(r.diffs[1], ga.map((v) => -v));
          expect(r.diffs[2]).toBeNull();
        }
      });

      it('wants three bottoms with one similarity per pair', () => {
        const l = layerFrom('name: "l" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "s" top: "loss"');
        expect(l.bottomCount()).toEqual([3, 3]);
        expect([0, 1, 2].map((i) => l.allowForceBackward(i))).toEqual([true, true, false]);
        kdnetError(() => l.setup([[3, 2, 2, 2], [3, 2, 2, 2], [3]]), /N×C/);
        kdnetError(() => l.setup([[3, 2], [3, 2], [3, 2]]), /one value per pair/);
      });
    });

    describe('Accuracy', () => {
      const text = (extra = '', tops = 'top: "acc"') => `name: "a" type: "Accuracy" bottom: "x" bottom: "y" ${tops} ${extra}`;

      it('counts ties with the true class against it (top_k 1)', () => {
        const r = run(layerFrom(text()), [{ shape: [3, 3], values: [1, 2, 0, 5, 5, 1, 0, 0, 9] }, { shape: [3], values: [1, 0, 2] }]);
        close(r.tops[0], [2 / 3]);
      });

      it('top_k, ignore_label and per-class accuracy', () => {
        const x = [3, 2, 1, 0, 0, 1, 2, 3, 1, 3, 2, 0, 9, 8, 7, 6];
        const r = run(layerFrom(text('accuracy_param { top_k: 2 ignore_label: 3 }', 'top: "acc" top: "per"')), [{ shape: [4, 4], values: x }, { shape: [4], values: [1, 1, 3, 0] }]);
        // item 0: label 1 is 2nd → hit; item 1: label 1 is 3rd → miss; item 2 ignored; item 3: label 0 is 1st → hit.
        close(r.tops[0], [2 / 3]);
        expect(r.topShapes[1]).toEqual([4]);
        close(r.tops[1], [1, 0.5, 0, 0]);
      });

      it('works over a spatial class axis and reports 0 when every label is ignored', () => {
        // 1×3×2: position 0 scores (0, 5, 1) → 1; position 1 scores (4, 2, 3) → 0.
        const r = run(layerFrom(text()), [{ shape: [1, 3, 2], values: [0, 4, 5, 2, 1, 3] }, { shape: [1, 2], values: [1, 2] }]);
        close(r.tops[0], [0.5]);
        const none = run(layerFrom(text('accuracy_param { ignore_label: 0 }')), [{ shape: [2, 2], values: [1, 2, 3, 4] }, { shape: [2], values: [0, 0] }]);
        expect(none.tops[0]).toEqual([0]);
      });

      it('has no backward and checks top_k and the label count', () => {
        const l = layerFrom(text());
        expect(l.hasBackward()).toBe(false);
        expect(l.isLoss()).toBe(false);
        kdnetError(() => layerFrom(text('accuracy_param { top_k: 4 }')).setup([[2, 3], [2]]), /top_k \(4\) must be less than or equal to the number of classes \(3\)/);
        kdnetError(() => layerFrom(text()).setup([[2, 3, 2], [2]]), /number of labels must match/);
      });
    });

    describe('in a net', () => {
      it('stops with a clear error when a target comes from a trainable layer (Caffe aborts)', () => {
        const net = new Net(
          parseCaffeText(
            `layer { name: "in" type: "Input" top: "x" top: "t" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "t" top: "target" inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "loss" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "target" top: "loss" }`,
            'NetParameter',
            'net.prototxt',
          ).message,
          { phase: Phase.TRAIN },
        );
        net.setInput('x', tf.zeros([2, 3]));
        net.setInput('t', tf.ones([2, 3]));
        net.forward();
        expect(() => net.backward()).toThrow(/cannot backpropagate to its target input 'target'.*lr_mult: 0/);
        net.dispose();
      });

      it('runs InfogainLoss with two tops through the net (second top weight 0)', () => {
        const dir = tmpDir('kdnet-infogain-net-');
        writeH(dir, 'H.binaryproto', 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        const net = new Net(
          parseCaffeText(
            `force_backward: true
layer { name: "in" type: "Input" top: "x" top: "y" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
layer { name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" top: "prob" loss_weight: 1 loss_weight: 0 infogain_loss_param { source: "H.binaryproto" } }`,
            'NetParameter',
            'net.prototxt',
          ).message,
          { phase: Phase.TRAIN, baseDir: dir },
        );
        net.setInput('x', tf.tensor2d([[1, 2, 3], [0, 0, 1]]));
        net.setInput('y', tf.tensor1d([2, 0]));
        const loss = net.forward();
        const p = softmaxRows([1, 2, 3, 0, 0, 1], 2, 3);
        expect(loss).toBeCloseTo((-Math.log(p[2]!) - Math.log(p[3]!)) / 2, 5);
        net.backward();
        close(Array.from(net.blobDiff('x')!.dataSync()), p.map((v, i) => (v - ([2, 3].includes(i) ? 1 : 0)) / 2));
        expect(net.blobDiff('y')).toBeUndefined();
        net.dispose();
      });
    });
  });
}
