// Log: y = log_base(shift + scale * x), base -1 meaning e. Caffe computes ln(shift + scale x) / ln(base);
// the backward is dy * (scale / ln(base)) / (shift + scale x).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';
import { logOfBase } from './exp.js';

export class LogLayer extends NeuronLayer {
  private readonly p = paramMessage(this, 'log_param', 'LogParameter');
  private readonly logBase = logOfBase(this, f32(this.p.base as number), 'log_param');
  private readonly baseScale = this.checkedBaseScale();
  private readonly inputScale = f32(this.p.scale as number);
  private readonly inputShift = f32(this.p.shift as number);
  private readonly backwardScale = f32(this.inputScale / this.logBase);

  private checkedBaseScale(): number {
    const s = f32(1 / this.logBase);
    if (!Number.isFinite(s)) throw this.error(`1/log(base) is not finite for base ${this.p.base} (base 1 has no logarithm)`, 'log_param');
    return s;
  }

  private affine(x: tf.Tensor): tf.Tensor {
    let t = x;
    if (this.inputScale !== 1) t = tf.mul(t, this.inputScale);
    if (this.inputShift !== 0) t = tf.add(t, this.inputShift);
    return t;
  }

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    let y = tf.log(this.affine(x!));
    if (this.baseScale !== 1) y = tf.mul(y, this.baseScale);
    return [y];
  }

  protected gradient(x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    let d = tf.reciprocal(this.affine(x));
    if (this.backwardScale !== 1) d = tf.mul(d, this.backwardScale);
    return tf.mul(dy, d);
  }
}

registerLayer('Log', LogLayer);
