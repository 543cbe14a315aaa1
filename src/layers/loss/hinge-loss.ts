// HingeLoss: one-vs-all hinge, Σ max(0, 1 − t·x)^p / N with t = +1 at the labelled class and −1 elsewhere,
// p = 1 (L1, default) or 2 (L2) (Caffe's HingeLossLayer). The label gets no gradient.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { caffeEnum } from '../../proto/schema.js';
import { LossLayer, countOf, readLabels, subParam } from './common.js';

const NORM = caffeEnum('HingeLossParameter.Norm').values;

export class HingeLossLayer extends LossLayer {
  private num = 0;
  private dim = 0;
  private l2 = false;

  setup(shapes: Shape[]): Shape[] {
    this.checkFirstDims(shapes);
    this.num = shapes[0]![0]!;
    this.dim = this.num ? countOf(shapes[0]!) / this.num : 0;
    const norm = subParam(this, 'hinge_loss_param', 'HingeLossParameter').norm as number;
    if (norm !== NORM.L1 && norm !== NORM.L2) throw this.error(`unknown hinge_loss_param.norm ${norm} (L1 or L2)`, 'hinge_loss_param');
    this.l2 = norm === NORM.L2;
    return [[]];
  }

  /** t·x per element: x negated at each item's labelled class. */
  private signs(label: tf.Tensor): tf.Tensor {
    const lab = readLabels(this, label, this.num, undefined, this.dim);
    const s = new Float32Array(this.num * this.dim).fill(1);
    for (let i = 0; i < this.num; i++) s[i * this.dim + lab.index[i]!] = -1;
    return tf.tensor2d(s, [this.num, this.dim]);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const margin = tf.relu(tf.add(1, tf.mul(tf.reshape(x, [this.num, this.dim]), this.signs(label))));
    const total = this.l2 ? tf.sum(tf.mul(margin, margin)) : tf.sum(margin);
    return [tf.div(total, this.num)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'label');
    if (!propagateDown[0]) return { bottomDiffs: [null, null], paramDiffs: [] };
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const dx = tf.tidy(() => {
      const signs = this.signs(label);
      const margin = tf.relu(tf.add(1, tf.mul(tf.reshape(x, [this.num, this.dim]), signs)));
      // d/dx of max(0, m)^p with m = 1 + t·x: L1 → t·[m > 0], L2 → 2·max(0, m)·t.
      const local = this.l2 ? tf.mul(tf.mul(margin, 2), signs) : tf.mul(tf.cast(tf.greater(margin, 0), 'float32'), signs);
      return tf.reshape(tf.mul(local, tf.div(topDiffs[0]!, this.num)), x.shape);
    });
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('HingeLoss', HingeLossLayer);
