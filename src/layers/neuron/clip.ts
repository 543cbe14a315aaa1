// Clip: y = max(min, min(x, max)); the gradient passes where min <= x <= max (both ends inclusive, as in
// Caffe). min and max are required fields of clip_param.
import * as tf from '@tensorflow/tfjs-core';
import { has } from '../../proto/schema.js';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, mask, paramMessage } from './neuron-base.js';

export class ClipLayer extends NeuronLayer {
  private readonly p = paramMessage(this, 'clip_param', 'ClipParameter');
  private readonly min = f32(this.requiredField('min'));
  private readonly max = f32(this.requiredField('max'));

  private requiredField(name: 'min' | 'max'): number {
    if (!has(this.p, name)) {
      throw this.error(`Clip needs clip_param { min: ... max: ... } (${name} is a required field)`, has(this.param, 'clip_param') ? 'clip_param' : undefined);
    }
    return this.p[name] as number;
  }

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    // Not tf.clipByValue: Caffe accepts min > max (every output is then min).
    return [tf.maximum(tf.minimum(x!, this.max), this.min)];
  }

  protected gradient(x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    return tf.mul(dy, mask(tf.logicalAnd(tf.greaterEqual(x, this.min), tf.lessEqual(x, this.max))));
  }
}

registerLayer('Clip', ClipLayer);
