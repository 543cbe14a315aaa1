// EuclideanLoss: Σ (a − b)² / (2N) (Caffe's EuclideanLossLayer). Both bottoms get a gradient, with opposite
// signs, and both may be forced to (Caffe's AllowForceBackward is true for either).
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { LossLayer, countOf, fmtShape, tidyDiffs } from './common.js';

export class EuclideanLossLayer extends LossLayer {
  private num = 1;

  override allowForceBackward(): boolean {
    return true;
  }

  setup(shapes: Shape[]): Shape[] {
    this.checkFirstDims(shapes, 'target');
    const [a, b] = [shapes[0]!, shapes[1]!];
    if (countOf(a, 1) !== countOf(b, 1)) {
      throw this.error(
        `inputs must have the same dimension: '${this.bottomName(0)}' ${fmtShape(a)} has ${countOf(a, 1)} values per item but ` +
          `'${this.bottomName(1)}' ${fmtShape(b)} has ${countOf(b, 1)}`,
        'bottom',
      );
    }
    this.num = a[0]!;
    return [[]];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const [a, b] = bottoms as [tf.Tensor, tf.Tensor];
    const d = tf.sub(a, tf.reshape(b, a.shape));
    return [tf.div(tf.div(tf.sum(tf.mul(d, d)), this.num), 2)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const [a, b] = bottoms as [tf.Tensor, tf.Tensor];
    const bottomDiffs = tidyDiffs(() => {
      const scaled = tf.mul(tf.sub(a, tf.reshape(b, a.shape)), tf.div(topDiffs[0]!, this.num));
      return [propagateDown[0] ? tf.clone(scaled) : null, propagateDown[1] ? tf.reshape(tf.neg(scaled), b.shape) : null];
    });
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('EuclideanLoss', EuclideanLossLayer);
