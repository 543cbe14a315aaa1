// Swish: y = x * sigmoid(beta * x). Caffe's backward: dy * (beta * y + s * (1 - beta * y)) with the sigmoid
// s it kept from the forward (so in-place use is exact).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';
import { caffeSigmoid } from './sigmoid.js';

export class SwishLayer extends NeuronLayer {
  private readonly beta = f32(paramMessage(this, 'swish_param', 'SwishParameter').beta as number);

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.mul(x!, caffeSigmoid(tf.mul(x!, this.beta)))];
  }

  protected override readsBottomData(): boolean {
    return false;
  }

  protected gradient(_x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, original: tf.Tensor): tf.Tensor {
    const s = caffeSigmoid(tf.mul(original, this.beta));
    const by = tf.mul(y, this.beta);
    return tf.mul(dy, tf.add(by, tf.mul(s, tf.sub(1, by))));
  }
}

registerLayer('Swish', SwishLayer);
