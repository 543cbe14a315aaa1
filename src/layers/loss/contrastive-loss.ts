// ContrastiveLoss (Caffe's ContrastiveLossLayer): for pairs (a_n, b_n) with d² = ‖a_n − b_n‖², similar pairs
// (sim ≠ 0) add d², dissimilar ones max(margin − d, 0)² (legacy_version: max(margin − d², 0)); the sum is
// divided by 2N. Caffe's backward divides by d + 1e−4 for dissimilar pairs, so it is reproduced as written
// rather than differentiated. The similarity input gets no gradient.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { LossLayer, countOf, fmtShape, legacyDim, subParam, tidyDiffs } from './common.js';

export class ContrastiveLossLayer extends LossLayer {
  private num = 0;
  private channels = 0;

  override bottomCount(): [number, number] {
    return [3, 3];
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex !== 2;
  }

  setup(shapes: Shape[]): Shape[] {
    this.checkFirstDims(shapes, 'second input');
    const [a, b, sim] = [shapes[0]!, shapes[1]!, shapes[2]!];
    const flatPairs = (s: Shape) => s.length <= 4 && legacyDim(s, 2) === 1 && legacyDim(s, 3) === 1;
    if (!flatPairs(a) || !flatPairs(b) || legacyDim(a, 1) !== legacyDim(b, 1)) {
      throw this.error(
        `both inputs must be N×C (or N×C×1×1) with the same C: '${this.bottomName(0)}' is ${fmtShape(a)}, '${this.bottomName(1)}' is ${fmtShape(b)}`,
        'bottom',
      );
    }
    if (sim.length === 0 || sim.length > 4 || legacyDim(sim, 1) !== 1 || legacyDim(sim, 2) !== 1 || legacyDim(sim, 3) !== 1 || sim[0] !== a[0]) {
      throw this.error(`the similarity input '${this.bottomName(2)}' must hold one value per pair (${a[0]}), got ${fmtShape(sim)}`, 'bottom');
    }
    this.num = a[0]!;
    this.channels = countOf(a, 1);
    return [[]];
  }

  private params(): { margin: number; legacy: boolean } {
    const p = subParam(this, 'contrastive_loss_param', 'ContrastiveLossParameter');
    return { margin: p.margin as number, legacy: p.legacy_version === true };
  }

  /** 1 for similar pairs (static_cast<int>(sim) ≠ 0), else 0; shape [N, 1]. */
  private similar(sim: tf.Tensor): tf.Tensor {
    const s = sim.dataSync();
    const out = new Float32Array(this.num);
    for (let i = 0; i < this.num; i++) out[i] = Math.trunc(s[i]!) !== 0 ? 1 : 0;
    return tf.tensor2d(out, [this.num, 1]);
  }

  private diffs(a: tf.Tensor, b: tf.Tensor): { diff: tf.Tensor; distSq: tf.Tensor } {
    const diff = tf.sub(tf.reshape(a, [this.num, this.channels]), tf.reshape(b, [this.num, this.channels]));
    return { diff, distSq: tf.sum(tf.mul(diff, diff), 1, true) };
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [a, b, sim] = bottoms as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { margin, legacy } = this.params();
    const { distSq } = this.diffs(a, b);
    const dissimilar = legacy ? tf.relu(tf.sub(margin, distSq)) : tf.square(tf.relu(tf.sub(margin, tf.sqrt(distSq))));
    const per = tf.where(tf.cast(this.similar(sim), 'bool'), distSq, dissimilar);
    return [tf.div(tf.div(tf.sum(per), this.num), 2)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (!propagateDown[0] && !propagateDown[1]) return { bottomDiffs: [null, null, null], paramDiffs: [] };
    const [a, b, sim] = bottoms as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { margin, legacy } = this.params();
    const bottomDiffs = tidyDiffs(() => {
      const { diff, distSq } = this.diffs(a, b);
      // Per pair, the coefficient c of diff in d loss / d a (before topdiff / N): similar 1; dissimilar
      // legacy −1 while margin − d² > 0, else −(margin − d)/(d + 1e−4) while margin − d > 0; 0 otherwise.
      let coef: tf.Tensor;
      if (legacy) {
        coef = tf.where(tf.greater(tf.sub(margin, distSq), 0), tf.neg(tf.onesLike(distSq)), tf.zerosLike(distSq));
      } else {
        const dist = tf.sqrt(distSq);
        const mdist = tf.sub(margin, dist);
        coef = tf.where(tf.greater(mdist, 0), tf.neg(tf.div(mdist, tf.add(dist, 1e-4))), tf.zerosLike(distSq));
      }
      coef = tf.where(tf.cast(this.similar(sim), 'bool'), tf.onesLike(coef), coef);
      const ga = tf.mul(tf.mul(diff, coef), tf.div(topDiffs[0]!, this.num));
      return [
        propagateDown[0] ? tf.reshape(ga, a.shape) : null,
        propagateDown[1] ? tf.reshape(tf.neg(ga), b.shape) : null,
        null,
      ];
    });
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('ContrastiveLoss', ContrastiveLossLayer);
