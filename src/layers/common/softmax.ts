// Softmax over one axis (softmax_param.axis, default 1), computed like Caffe: subtract the maximum,
// exponentiate, divide by the sum. Backward: dx = (dy - Σ_axis dy·y) · y.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, paramOf } from './util.js';

/** Softmax of `x` along `axis` (max-subtracted). */
export function softmaxAlong(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => {
    const e = tf.exp(tf.sub(x, tf.max(x, axis, true)));
    return tf.div(e, tf.sum(e, axis, true));
  });
}

/** Vector-Jacobian product of softmax along `axis`, given its output `y` and the output diff `dy`. */
export function softmaxBackward(y: tf.Tensor, dy: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.sub(dy, tf.sum(tf.mul(dy, y), axis, true)), y));
}

export class SoftmaxLayer extends Layer {
  private axis = 1;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'softmax_param', 'SoftmaxParameter');
    this.axis = canonicalAxis(this, p.axis, bottomShapes[0]!, 'softmax_param');
    return [bottomShapes[0]!.slice()];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [softmaxAlong(bottoms[0]!, this.axis)];
  }

  override backward(_bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    return { bottomDiffs: [propagateDown[0] ? softmaxBackward(tops[0]!, topDiffs[0]!, this.axis) : null], paramDiffs: [] };
  }
}

registerLayer('Softmax', SoftmaxLayer);
