// BNLL (softplus) in Caffe's stable form: x > 0 ? x + log(1 + exp(-x)) : log(1 + exp(x)). The backward
// caps x at 50 before exp, as Caffe does: dy * e / (e + 1) with e = exp(min(x, 50)).
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { NeuronLayer } from './neuron-base.js';

const BNLL_THRESHOLD = 50;

export class BNLLLayer extends NeuronLayer {
  compute([x]: tf.Tensor[]): tf.Tensor[] {
    // Both of Caffe's branches are max(x, 0) + log(1 + exp(-|x|)).
    return [tf.add(tf.maximum(x!, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x!)))))];
  }

  protected gradient(x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    const e = tf.exp(tf.minimum(x, BNLL_THRESHOLD));
    return tf.div(tf.mul(dy, e), tf.add(e, 1));
  }
}

registerLayer('BNLL', BNLLLayer);
