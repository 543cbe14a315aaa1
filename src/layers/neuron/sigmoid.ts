// Sigmoid in Caffe's form 0.5 * tanh(0.5 x) + 0.5; backward from the top: dy * y * (1 - y).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer } from './neuron-base.js';

/** Caffe's sigmoid (also used inside Swish). */
export function caffeSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(tf.tanh(tf.mul(x, 0.5)), 0.5), 0.5);
}

export class SigmoidLayer extends NeuronLayer {
  compute([x]: tf.Tensor[]): tf.Tensor[] {
    return [caffeSigmoid(x!)];
  }

  protected override readsBottomData(): boolean {
    return false;
  }

  protected gradient(_x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    return tf.mul(tf.mul(dy, y), tf.sub(1, y));
  }
}

registerLayer('Sigmoid', SigmoidLayer);
