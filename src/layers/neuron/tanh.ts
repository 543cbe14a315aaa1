// TanH; backward from the top: dy * (1 - y^2).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer } from './neuron-base.js';

export class TanHLayer extends NeuronLayer {
  compute([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.tanh(x!)];
  }

  protected override readsBottomData(): boolean {
    return false;
  }

  protected gradient(_x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    return tf.mul(dy, tf.sub(1, tf.mul(y, y)));
  }
}

registerLayer('TanH', TanHLayer);
