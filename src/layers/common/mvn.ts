// MVN: subtracts the mean of each sample's channel (of each sample with across_channels) and, with
// normalize_variance, divides by (standard deviation + eps) — Caffe adds eps to the std, not the variance.
// Backward uses Caffe's formula dx = (dy - mean(dy) - y·mean(dy·y)) / (std + eps).
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { countOf, paramOf, shapeText } from './util.js';

export class MVNLayer extends Layer {
  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  private get p() {
    return paramOf(this, 'mvn_param', 'MVNParameter');
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const shape = bottomShapes[0]!;
    if (shape.length > 4) throw this.error(`MVN works on blobs of at most 4 axes (num, channels, height, width), got ${shapeText(shape)}`, 'bottom');
    return [shape.slice()];
  }

  /** Rows normalized independently: N (across_channels) or N·C. */
  private rows(shape: Shape): number {
    const num = shape[0] ?? 1;
    return this.p.across_channels === true ? num : num * (shape[1] ?? 1);
  }

  /** The bottom as rows × dim, its centered values, and std + eps per row (when variance is normalized). */
  private stats(x: tf.Tensor): { centered: tf.Tensor2D; scale?: tf.Tensor2D } {
    const rows = this.rows(x.shape);
    const dim = rows ? x.size / rows : 0;
    const xr = tf.reshape(x, [rows, dim]) as tf.Tensor2D;
    const centered = tf.sub(xr, tf.div(tf.sum(xr, 1, true), dim)) as tf.Tensor2D;
    if (this.p.normalize_variance === false) return { centered };
    const variance = tf.div(tf.sum(tf.square(centered), 1, true), dim);
    return { centered, scale: tf.add(tf.sqrt(variance), Number(this.p.eps)) as tf.Tensor2D };
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const { centered, scale } = this.stats(x);
    return [tf.reshape(scale ? tf.div(centered, scale) : centered, x.shape)];
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const x = bottoms[0]!;
    const dx = tf.tidy(() => {
      const rows = this.rows(x.shape);
      const dim = rows ? x.size / rows : 0;
      const dy = tf.reshape(topDiffs[0]!, [rows, dim]);
      const sumDy = tf.sum(dy, 1, true);
      const { scale } = this.stats(x);
      if (!scale) return tf.reshape(tf.sub(dy, tf.div(sumDy, dim)), x.shape);
      const y = tf.reshape(tops[0]!, [rows, dim]);
      const inner = tf.add(tf.mul(y, tf.sum(tf.mul(dy, y), 1, true)), sumDy);
      return tf.reshape(tf.div(tf.sub(dy, tf.div(inner, dim)), scale), x.shape);
    });
    return { bottomDiffs: [dx], paramDiffs: [] };
  }
}

registerLayer('MVN', MVNLayer);
