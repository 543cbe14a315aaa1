// SoftmaxWithLoss: softmax over softmax_param.axis, then the mean negative log-probability of the labelled
// class (Caffe's SoftmaxWithLossLayer): ignore_label skips positions, loss_param.normalization picks the divisor.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import {
  FLT_MIN,
  LossLayer,
  Normalization,
  canonicalAxis,
  classBack,
  classLast,
  countOf,
  fmtShape,
  ignoreLabelOf,
  normalizationMode,
  normalizer,
  oneHotRows,
  readLabels,
  subParam,
  zeroIgnored,
  LabelCache,
  type Labels,
} from './common.js';

export class SoftmaxWithLossLayer extends LossLayer {
  private outer = 0;
  private classes = 0;
  private inner = 0;
  private ignore: number | undefined;
  private mode: number = Normalization.VALID;
  private readonly cache = new LabelCache();

  override topCount(): [number, number] {
    return [1, 2];
  }

  setup(shapes: Shape[]): Shape[] {
    if (this.topNames().length === 2) {
      throw this.error(
        'SoftmaxWithLoss with a second top (the probabilities) never works in BVLC Caffe: with one loss_weight or none it ' +
          'fails "loss_weight must be unspecified or specified once per top blob" (2 tops, 1 weight), and with two its internal ' +
          'Softmax layer copies both weights for its single top and fails the same check. Compute the probabilities with a ' +
          'separate Softmax layer on the same bottom.',
        'top',
      );
    }
    this.checkFirstDims(shapes);
    const [x, label] = [shapes[0]!, shapes[1]!];
    const axis = canonicalAxis(this, subParam(this, 'softmax_param', 'SoftmaxParameter').axis as number, x, 'softmax_param');
    this.outer = countOf(x, 0, axis);
    this.classes = x[axis]!;
    this.inner = countOf(x, axis + 1);
    if (this.outer * this.inner !== countOf(label)) {
      throw this.error(
        `number of labels must match number of predictions: '${this.bottomName(0)}' ${fmtShape(x)} has ${this.outer * this.inner} ` +
          `positions outside the class axis ${axis} but '${this.bottomName(1)}' ${fmtShape(label)} holds ${countOf(label)} labels ` +
          `(for N×C×H×W predictions and axis 1 the label count must be N·H·W)`,
        'bottom',
      );
    }
    this.ignore = ignoreLabelOf(this);
    this.mode = normalizationMode(this, Normalization.VALID);
    this.cache.clear();
    return [[]];
  }

  private labels(label: tf.Tensor): Labels {
    return this.cache.get(label, () => readLabels(this, label, this.outer * this.inner, this.ignore, this.classes));
  }

  private prob(x: tf.Tensor): tf.Tensor2D {
    return tf.softmax(classLast(x, this.outer, this.classes, this.inner));
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const lab = this.labels(label);
    const rows = this.outer * this.inner;
    const flat = new Int32Array(rows);
    for (let r = 0; r < rows; r++) flat[r] = r * this.classes + Math.max(lab.index[r]!, 0);
    const picked = tf.gather(tf.reshape(this.prob(x), [-1]), tf.tensor1d(flat, 'int32'));
    let logs = tf.log(tf.maximum(picked, FLT_MIN));
    if (lab.anyIgnored) logs = zeroIgnored(logs, lab.valid);
    const norm = normalizer(this.mode, this.outer, this.inner, lab.validCount);
    return [tf.div(tf.sub(0, tf.sum(logs)), norm)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    this.refuseBackprop(propagateDown, [1], 'label');
    if (!propagateDown[0]) return { bottomDiffs: [null, null], paramDiffs: [] };
    const [x, label] = bottoms as [tf.Tensor, tf.Tensor];
    const lab = this.labels(label);
    const norm = normalizer(this.mode, this.outer, this.inner, lab.validCount);
    const dx = tf.tidy(() => {
      let g: tf.Tensor = tf.sub(this.prob(x), oneHotRows(lab.index, this.classes));
      if (lab.anyIgnored) g = zeroIgnored(g, lab.valid);
      g = tf.mul(g, tf.div(topDiffs[0]!, norm));
      return classBack(g, x.shape, this.outer, this.classes, this.inner);
    });
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('SoftmaxWithLoss', SoftmaxWithLossLayer);
