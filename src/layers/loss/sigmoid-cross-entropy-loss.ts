// SigmoidCrossEntropyLoss: cross-entropy of sigmoid(x) against targets in [0, 1], in Caffe's overflow-free form
// x·(t − [x ≥ 0]) − log(1 + exp(x − 2x·[x ≥ 0])). Unlike SoftmaxWithLoss it divides by the batch size unless
// loss_param says otherwise; a target equal to ignore_label (after truncation to int) is skipped. The target
// gets no gradient.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import {
  LossLayer,
  Normalization,
  countOf,
  fmtShape,
  ignoreLabelOf,
  normalizationMode,
  normalizer,
  readLabels,
  zeroIgnored,
  LabelCache,
  type Labels,
} from './common.js';

export class SigmoidCrossEntropyLossLayer extends LossLayer {
  private outer = 0;
  private inner = 0;
  private ignore: number | undefined;
  private mode: number = Normalization.BATCH_SIZE;
  private readonly cache = new LabelCache();

  setup(shapes: Shape[]): Shape[] {
    this.checkFirstDims(shapes, 'target');
    const [x, t] = [shapes[0]!, shapes[1]!];
    if (countOf(x) !== countOf(t)) {
      throw this.error(
        `inputs must have the same count: '${this.bottomName(0)}' ${fmtShape(x)} has ${countOf(x)} values but '${this.bottomName(1)}' ${fmtShape(t)} has ${countOf(t)}`,
        'bottom',
      );
    }
    this.outer = x[0]!;
    this.inner = countOf(x, 1);
    this.ignore = ignoreLabelOf(this);
    this.mode = normalizationMode(this, Normalization.BATCH_SIZE);
    this.cache.clear();
    return [[]];
  }

  /** Ignored positions and the valid count (only read when ignore_label is set). */
  private mask(t: tf.Tensor): Labels | undefined {
    if (this.ignore === undefined) return undefined;
    return this.cache.get(t, () => readLabels(this, t, this.outer * this.inner, this.ignore));
  }

  private norm(mask: Labels | undefined): number {
    return normalizer(this.mode, this.outer, this.inner, mask ? mask.validCount : this.outer * this.inner);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [x, t0] = bottoms as [tf.Tensor, tf.Tensor];
    const t = tf.reshape(t0, x.shape);
    const mask = this.mask(t0);
    const pos = tf.cast(tf.greaterEqual(x, 0), 'float32');
    const softplusTerm = tf.log(tf.add(1, tf.exp(tf.sub(x, tf.mul(tf.mul(x, 2), pos)))));
    let term = tf.sub(tf.mul(x, tf.sub(t, pos)), softplusTerm);
    if (mask?.anyIgnored) term = zeroIgnored(term, mask.valid);
    return [tf.div(tf.sub(0, tf.sum(term)), this.norm(mask))];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'target');
    if (!propagateDown[0]) return { bottomDiffs: [null, null], paramDiffs: [] };
    const [x, t] = bottoms as [tf.Tensor, tf.Tensor];
    const mask = this.mask(t);
    const dx = tf.tidy(() => {
      let g = tf.sub(tf.sigmoid(x), tf.reshape(t, x.shape));
      if (mask?.anyIgnored) g = zeroIgnored(g, mask.valid);
      return tf.mul(g, tf.div(topDiffs[0]!, this.norm(mask)));
    });
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('SigmoidCrossEntropyLoss', SigmoidCrossEntropyLossLayer);
