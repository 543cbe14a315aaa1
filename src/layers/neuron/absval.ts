// AbsVal: y = |x|, backward dy * sign(x) (sign 0 at 0). Caffe forbids in-place use of this layer.
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { NeuronLayer } from './neuron-base.js';

export class AbsValLayer extends NeuronLayer {
  override setup(bottomShapes: Shape[]): Shape[] {
    if (this.inPlace) throw this.error('AbsVal does not allow in-place computation (Caffe rejects top == bottom): give the top its own name', 'top');
    return super.setup(bottomShapes);
  }

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.abs(x!)];
  }

  protected gradient(x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    return tf.mul(dy, tf.sign(x));
  }
}

registerLayer('AbsVal', AbsValLayer);
