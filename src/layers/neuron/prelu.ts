// PReLU: y = max(x, 0) + a_c * min(x, 0) with a learned slope per channel (blob [C]) or one shared slope
// (blob of shape [], Caffe's 0-axis blob). Filler defaults to constant 0.25. Caffe keeps a copy of the
// bottom when used in place, so the backward always sees the original input.
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult, Shape } from '../layer.js';
import { has, newMessage } from '../../proto/schema.js';
import { registerLayer } from '../registry.js';
import { NeuronLayer, paramMessage } from './neuron-base.js';

export class PReLULayer extends NeuronLayer {
  private readonly prelu = paramMessage(this, 'prelu_param', 'PReLUParameter');
  private readonly shared = this.prelu.channel_shared === true;

  override setup(bottomShapes: Shape[]): Shape[] {
    const x = bottomShapes[0]!;
    if (x.length < 2) throw this.error(`PReLU needs a bottom with at least 2 axes (N, C, ...), got shape [${x.join(', ')}]`, 'bottom');
    if (x.length > 4) {
      throw this.error(`PReLU reads the channel count with Caffe's legacy 4-D accessor and cannot take a ${x.length}-D bottom [${x.join(', ')}]`, 'bottom');
    }
    const channels = x[1]!;
    if (!this.blobs.length) {
      const filler = has(this.prelu, 'filler') ? this.prelu.filler : newMessage('FillerParameter', { type: 'constant', value: 0.25 });
      this.blobs.push(this.createParam(filler, this.shared ? [] : [channels], 'prelu_param.filler'));
    }
    const count = this.blobs[0]!.size;
    if (this.shared ? count !== 1 : count !== channels) {
      throw this.error(
        `negative slope blob has ${count} value(s) but ${this.shared ? 'channel_shared needs 1' : `the bottom has ${channels} channels`}`,
        'prelu_param',
      );
    }
    return [x.slice()];
  }

  private slopeFor(x: tf.Tensor, slope: tf.Tensor): tf.Tensor {
    if (this.shared) return tf.reshape(slope, []);
    const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
    return tf.reshape(slope, shape);
  }

  compute([x]: tf.Tensor[], [slope]: tf.Tensor[]): tf.Tensor[] {
    // Caffe's formula as written (bit for bit, +inf included): four elementwise kernels, where tf.where needed a
    // comparison and broadcast its operands through three Identity kernels more.
    return [tf.add(tf.relu(x!), tf.mul(this.slopeFor(x!, slope!), tf.minimum(x!, 0)))];
  }

  protected gradient(x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    // Caffe: dy * ((x > 0) + a_c * (x <= 0)).
    return tf.where(tf.greater(x, 0), dy, tf.mul(dy, this.slopeFor(x, this.blobs[0]!)));
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const x = bottoms[0]!;
    const dy = topDiffs[0]!;
    const slopeDiff = tf.tidy(() => {
      // Caffe: Σ dy * x * (x <= 0), i.e. dy * min(x, 0).
      const contrib = tf.mul(dy, tf.minimum(x, 0));
      if (this.shared) return tf.reshape(tf.sum(contrib), []);
      const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
      return tf.reshape(tf.sum(contrib, axes), this.blobs[0]!.shape);
    });
    const bottomDiff = propagateDown[0] ? tf.tidy(() => this.gradient(x, x, dy)) : null;
    return { bottomDiffs: [bottomDiff], paramDiffs: [slopeDiff] };
  }
}

registerLayer('PReLU', PReLULayer);
