// ReLU with Caffe's negative_slope (leaky ReLU): y = max(x, 0) + negative_slope * min(x, 0).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';

export class ReLULayer extends NeuronLayer {
  private readonly slope = f32(paramMessage(this, 'relu_param', 'ReLUParameter').negative_slope as number);

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    // tf.leakyRelu is x < 0 ? slope * x : x, Caffe's value for every input. tf.relu differs from Caffe only
    // at -inf (Caffe: 0 + 0 * -inf = NaN, tf.relu: 0); NaN stays NaN in both.
    return [this.slope === 0 ? tf.relu(x!) : tf.leakyRelu(x!, this.slope)];
  }

  protected gradient(x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    // Caffe: dy * ((x > 0) + slope * (x <= 0)); step(x, slope) is that factor for every non-NaN x.
    return tf.mul(dy, tf.step(x, this.slope));
  }
}

registerLayer('ReLU', ReLULayer);
