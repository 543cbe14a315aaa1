// ELU: y = max(x, 0) + alpha * (exp(min(x, 0)) - 1); Caffe's backward uses the top: (alpha + y) where x <= 0.
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';

export class ELULayer extends NeuronLayer {
  private readonly alpha = f32(paramMessage(this, 'elu_param', 'ELUParameter').alpha as number);

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.add(tf.maximum(x!, 0), tf.mul(tf.sub(tf.exp(tf.minimum(x!, 0)), 1), this.alpha))];
  }

  protected gradient(x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    // Caffe: dy * ((x > 0) + (alpha + y) * (x <= 0)).
    return tf.where(tf.greater(x, 0), dy, tf.mul(dy, tf.add(y, this.alpha)));
  }
}

registerLayer('ELU', ELULayer);
