// TempSoftmaxCrossEntropyLoss, as BVLC/caffe PR #4378 ("kdistil") defines it: both logits are zero-meaned over
// C·H·W per item (MVN across channels, no variance scaling), divided by the temperature T and softmaxed over
// softmax_param.axis; the loss is the cross-entropy −Σ p_t·log p_s over the batch divided by N. Its gradient is
// NOT the derivative of that loss but Hinton's high-temperature approximation (z_s − z_t)/(C·T²)·loss_weight/N on
// the zero-meaned logits, which is why the PR requires T > 1. The target gets no gradient.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { FLT_MIN, LossLayer, canonicalAxis, countOf, fmtShape, legacyDim, softmaxAlong, subParam } from '../loss/common.js';

export class TempSoftmaxCrossEntropyLossLayer extends LossLayer {
  private temperature = 2;
  private axes: [number, number] = [1, 1];

  setup(shapes: Shape[]): Shape[] {
    this.temperature = subParam(this, 'tempsoftmax_param', 'TempSoftmaxParameter').temperature as number;
    if (!(this.temperature > 1) || !Number.isFinite(this.temperature)) {
      throw this.error(
        `tempsoftmax_param.temperature must be greater than 1, got ${this.temperature}: the layer's gradient assumes a high softmax temperature`,
        'tempsoftmax_param',
      );
    }
    this.checkFirstDims(shapes, 'target');
    const [s, t] = [shapes[0]!, shapes[1]!];
    if (countOf(s) !== countOf(t)) {
      throw this.error(
        `inputs must have the same count: '${this.bottomName(0)}' ${fmtShape(s)} has ${countOf(s)} values but '${this.bottomName(1)}' ${fmtShape(t)} has ${countOf(t)}`,
        'bottom',
      );
    }
    const axis = subParam(this, 'softmax_param', 'SoftmaxParameter').axis as number;
    this.axes = [canonicalAxis(this, axis, s, 'softmax_param'), canonicalAxis(this, axis, t, 'softmax_param')];
    return [[]];
  }

  /** Each item's logits minus their mean over everything but the batch axis. */
  private zeroMean(x: tf.Tensor): tf.Tensor {
    const rows = tf.reshape(x, [x.shape[0]!, -1]);
    return tf.reshape(tf.sub(rows, tf.mean(rows, 1, true)), x.shape);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [s, t] = bottoms as [tf.Tensor, tf.Tensor];
    const inv = 1 / this.temperature;
    const ps = softmaxAlong(tf.mul(this.zeroMean(s), inv), this.axes[0]);
    const pt = softmaxAlong(tf.mul(this.zeroMean(t), inv), this.axes[1]);
    const ce = tf.sum(tf.mul(tf.reshape(pt, [-1]), tf.log(tf.maximum(tf.reshape(ps, [-1]), FLT_MIN))));
    return [tf.div(tf.sub(0, ce), s.shape[0]!)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'target');
    if (!propagateDown[0]) return { bottomDiffs: [null, null], paramDiffs: [] };
    const [s, t] = bottoms as [tf.Tensor, tf.Tensor];
    const T = this.temperature;
    // Caffe divides by bottom[0]->channels() (legacy: 1 for a 1-D blob) whatever the softmax axis is.
    const channels = legacyDim(s.shape, 1);
    const dx = tf.tidy(() => {
      const diff = tf.sub(this.zeroMean(s), tf.reshape(this.zeroMean(t), s.shape));
      return tf.mul(tf.mul(diff, 1 / (channels * T * T)), tf.div(topDiffs[0]!, s.shape[0]!));
    });
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('TempSoftmaxCrossEntropyLoss', TempSoftmaxCrossEntropyLossLayer);
