// Power: y = (shift + scale * x)^power, with Caffe's special cases: when power * scale == 0 the output is the
// constant shift^power (1 for power 0) and the gradient 0; power 1 gives the constant gradient scale; power 2
// uses 2 * scale * (shift + scale x); shift 0 uses power * y / x (NaN at x == 0, as in Caffe); otherwise
// power * scale * y / (shift + scale x).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';

export class PowerLayer extends NeuronLayer {
  private readonly p = paramMessage(this, 'power_param', 'PowerParameter');
  private readonly power = f32(this.p.power as number);
  private readonly scale = f32(this.p.scale as number);
  private readonly shift = f32(this.p.shift as number);
  private readonly diffScale = f32(this.power * this.scale);

  /** shift + scale * x, skipping the operations Caffe skips. */
  private affine(x: tf.Tensor): tf.Tensor {
    let t = x;
    if (this.scale !== 1) t = tf.mul(t, this.scale);
    if (this.shift !== 0) t = tf.add(t, this.shift);
    return t;
  }

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    if (this.diffScale === 0) {
      const value = this.power === 0 ? 1 : f32(Math.pow(this.shift, this.power));
      return [tf.fill(x!.shape, value)];
    }
    const t = this.affine(x!);
    // Caffe always writes a new top; clone keeps the bottom's tensor out of the top when nothing changes.
    return [this.power !== 1 ? tf.pow(t, this.power) : t === x ? tf.clone(t) : t];
  }

  protected gradient(x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    if (this.diffScale === 0) return tf.zerosLike(dy);
    if (this.power === 1) return tf.mul(dy, this.diffScale);
    let d: tf.Tensor;
    if (this.power === 2) {
      d = tf.mul(x, f32(this.diffScale * this.scale));
      if (this.shift !== 0) d = tf.add(d, f32(this.diffScale * this.shift));
    } else if (this.shift === 0) {
      d = tf.mul(tf.div(y, x), this.power);
    } else {
      d = tf.div(y, this.affine(x));
      if (this.diffScale !== 1) d = tf.mul(d, this.diffScale);
    }
    return tf.mul(dy, d);
  }
}

registerLayer('Power', PowerLayer);
