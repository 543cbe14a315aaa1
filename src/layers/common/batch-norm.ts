// BatchNorm: normalizes each channel by the batch mean and biased batch variance (TRAIN statistics), or by
// the running statistics blobs[0]/blobs[2] and blobs[1]/blobs[2] (use_global_stats, the default in TEST).
// Computing batch statistics also updates the running sums: s ← f·s + 1, mean_sum ← f·mean_sum + mean,
// var_sum ← f·var_sum + m/(m-1)·var. The three blobs are statistics, never learned.
import * as tf from '@tensorflow/tfjs-core';
import { has, type Message } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { Phase } from '../../net/net-state.js';
import { countOf, paramOf, shapeText } from './util.js';

export class BatchNormLayer extends Layer {
  private channels = 0;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  private get p(): Message {
    return paramOf(this, 'batch_norm_param', 'BatchNormParameter');
  }

  get useGlobalStats(): boolean {
    return has(this.p, 'use_global_stats') ? this.p.use_global_stats === true : this.ctx.phase === Phase.TEST;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const shape = bottomShapes[0]!;
    if (shape.length < 1) throw this.error('BatchNorm needs a bottom with at least one axis', 'bottom');
    const channels = shape.length === 1 ? 1 : shape[1]!;
    if (!this.blobs.length) {
      (this.param.param as Message[]).slice(0, 3).forEach((spec, i) => {
        if (spec.lr_mult !== 0) {
          throw this.error(`BatchNorm statistics cannot be learned: param ${i} needs lr_mult: 0 (its running mean, variance and scale factor are computed, not trained)`, 'param');
        }
      });
      this.channels = channels;
      for (const s of [[channels], [channels], [1]]) this.blobs.push(this.createParam(undefined, s, 'batch_norm_param'));
      this.frozenBlobs.add(0).add(1).add(2);
    } else if (channels !== this.channels) {
      throw this.error(`bottom ${shapeText(shape)} has ${channels} channels but this BatchNorm was set up for ${this.channels}`, 'bottom');
    }
    return [shape.slice()];
  }

  /** The bottom viewed as N × C × spatial. */
  private view(x: tf.Tensor): tf.Tensor3D {
    const n = x.shape[0]!;
    return tf.reshape(x, [n, this.channels, n * this.channels ? x.size / (n * this.channels) : 0]);
  }

  /** Mean and variance per channel, shaped [1, C, 1]: batch statistics or the running ones. */
  private statistics(xv: tf.Tensor3D, params: tf.Tensor[]): { mean: tf.Tensor; variance: tf.Tensor } {
    if (this.useGlobalStats) {
      const s = tf.reshape(params[2]!, []);
      const factor = tf.where(tf.equal(s, 0), tf.scalar(0), tf.div(1, s));
      return {
        mean: tf.reshape(tf.mul(params[0]!, factor), [1, this.channels, 1]),
        variance: tf.reshape(tf.mul(params[1]!, factor), [1, this.channels, 1]),
      };
    }
    const mean = tf.mean(xv, [0, 2], true);
    return { mean, variance: tf.mean(tf.square(tf.sub(xv, mean)), [0, 2], true) };
  }

  private normalize(x: tf.Tensor, params: tf.Tensor[]): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
    const xv = this.view(x);
    const { mean, variance } = this.statistics(xv, params);
    const y = tf.reshape(tf.div(tf.sub(xv, mean), tf.sqrt(tf.add(variance, Number(this.p.eps)))), x.shape);
    return { y, mean, variance };
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    return [this.normalize(bottoms[0]!, params).y];
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const x = bottoms[0]!;
      const { y, mean, variance } = this.normalize(x, this.blobs);
      if (!this.useGlobalStats) {
        const f = Number(this.p.moving_average_fraction);
        const m = x.size / this.channels;
        const correction = m > 1 ? m / (m - 1) : 1;
        const [meanSum, varSum, scale] = this.blobs as [tf.Variable, tf.Variable, tf.Variable];
        scale.assign(tf.add(tf.mul(scale, f), 1));
        meanSum.assign(tf.add(tf.reshape(mean, [this.channels]), tf.mul(meanSum, f)));
        varSum.assign(tf.add(tf.mul(tf.reshape(variance, [this.channels]), correction), tf.mul(varSum, f)));
      }
      return [y];
    });
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    const paramDiffs = this.blobs.map(() => null);
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs };
    const x = bottoms[0]!;
    const dx = tf.tidy(() => {
      const xv = this.view(x);
      const { variance } = this.statistics(xv, this.blobs);
      const std = tf.sqrt(tf.add(variance, Number(this.p.eps)));
      const dy = this.view(topDiffs[0]!);
      if (this.useGlobalStats) return tf.reshape(tf.div(dy, std), x.shape);
      // y = (x - mean) / std with batch statistics: dx = (dy - mean(dy) - y · mean(dy · y)) / std.
      const y = this.view(tops[0]!);
      const centered = tf.sub(tf.sub(dy, tf.mean(dy, [0, 2], true)), tf.mul(y, tf.mean(tf.mul(dy, y), [0, 2], true)));
      return tf.reshape(tf.div(centered, std), x.shape);
    });
    return { bottomDiffs: [dx], paramDiffs };
  }
}

registerLayer('BatchNorm', BatchNormLayer);
