// MultinomialLogisticLoss: −Σ log(max(p[label], 1e−20)) / N on probabilities given directly (no softmax inside),
// after Caffe's MultinomialLogisticLossLayer. The label gets no gradient.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { LOG_THRESHOLD, LossLayer, countOf, fmtShape, legacyDim, readLabels } from './common.js';

export class MultinomialLogisticLossLayer extends LossLayer {
  private num = 0;
  private dim = 0;

  setup(shapes: Shape[]): Shape[] {
    this.checkFirstDims(shapes);
    const label = shapes[1]!;
    if (legacyDim(label, 1) !== 1 || legacyDim(label, 2) !== 1 || legacyDim(label, 3) !== 1 || label.length > 4) {
      throw this.error(`the label '${this.bottomName(1)}' must hold one value per item (N, N×1 or N×1×1×1), got ${fmtShape(label)}`, 'bottom');
    }
    this.num = shapes[0]![0]!;
    this.dim = this.num ? countOf(shapes[0]!) / this.num : 0;
    return [[]];
  }

  /** Flat index of each item's labelled probability. */
  private picks(label: tf.Tensor): Int32Array {
    const lab = readLabels(this, label, this.num, undefined, this.dim);
    return lab.index.map((c, i) => i * this.dim + c);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [p, label] = bottoms as [tf.Tensor, tf.Tensor];
    const picked = tf.gather(tf.reshape(p, [-1]), tf.tensor1d(this.picks(label), 'int32'));
    return [tf.div(tf.sub(0, tf.sum(tf.log(tf.maximum(picked, LOG_THRESHOLD)))), this.num)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'label');
    if (!propagateDown[0]) return { bottomDiffs: [null, null], paramDiffs: [] };
    const [p, label] = bottoms as [tf.Tensor, tf.Tensor];
    const dx = tf.tidy(() => {
      const at = new Uint8Array(p.size);
      for (const k of this.picks(label)) at[k] = 1;
      // −topdiff/N / max(p, 1e−20) at each labelled entry, 0 elsewhere.
      const vals = tf.div(tf.neg(tf.div(topDiffs[0]!, this.num)), tf.maximum(p, LOG_THRESHOLD));
      return tf.where(tf.tensor(at, p.shape, 'bool'), vals, tf.zerosLike(p));
    });
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('MultinomialLogisticLoss', MultinomialLogisticLossLayer);
