// Dropout (inverted, as in Caffe): at TRAIN each element is kept with probability 1 - dropout_ratio and kept
// elements are scaled by 1 / (1 - dropout_ratio); the backward applies the same mask and scale. At TEST the
// layer is the identity. The mask comes from the net's seeded Rng (Caffe's own RNG stream cannot be
// reproduced) and is kept from each forward for the following backward.
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../layer.js';
import { Phase } from '../../net/net-state.js';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';

export class DropoutLayer extends NeuronLayer {
  readonly ratio = f32(paramMessage(this, 'dropout_param', 'DropoutParameter').dropout_ratio as number);
  /** Caffe's scale_: 1 / (1 - ratio) in double, stored as float. */
  readonly scale = f32(1 / (1 - this.ratio));
  /** The last TRAIN mask, already multiplied by `scale` (0 or scale per element). */
  private scaledMask: tf.Tensor | undefined;

  private get training(): boolean {
    return this.ctx.phase === Phase.TRAIN;
  }

  override setup(bottomShapes: Shape[]): Shape[] {
    if (this.training && !(this.ratio >= 0 && this.ratio < 1)) {
      throw this.error(`dropout_ratio must be in [0, 1) (got ${this.ratio}): Caffe's Bernoulli draw needs 0 <= 1 - ratio <= 1 and ratio 1 scales by infinity`, 'dropout_param');
    }
    return super.setup(bottomShapes);
  }

  /** The mask of the last TRAIN forward (0 or 1 / (1 - ratio) per element), for inspection and tests. */
  get currentMask(): tf.Tensor | undefined {
    return this.scaledMask;
  }

  private drawMask(shape: number[]): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const keep = 1 - this.ratio;
    const values = new Float32Array(n);
    const rng = this.ctx.rng;
    for (let i = 0; i < n; i++) values[i] = rng.uniform() < keep ? this.scale : 0;
    return tf.tensor(values, shape, 'float32');
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    if (this.training) {
      this.scaledMask?.dispose();
      this.scaledMask = this.drawMask(bottoms[0]!.shape);
    }
    return tf.tidy(() => this.compute(bottoms));
  }

  /** The forward with the current mask (pure: a new mask is drawn only by `forward`). */
  compute([x]: tf.Tensor[]): tf.Tensor[] {
    if (!this.training) return [tf.clone(x!)];
    const m = this.scaledMask;
    if (!m || m.shape.join(',') !== x!.shape.join(',')) {
      throw new Error(`Dropout "${this.name}": no mask of shape [${x!.shape.join(', ')}] (forward draws it)`);
    }
    return [tf.mul(x!, m)];
  }

  protected override readsBottomData(): boolean {
    return false;
  }

  protected gradient(_x: tf.Tensor, _y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    if (!this.training) return tf.clone(dy);
    const m = this.scaledMask;
    if (!m || m.shape.join(',') !== dy.shape.join(',')) {
      throw new Error(`Dropout "${this.name}": backward without a matching forward mask`);
    }
    return tf.mul(dy, m);
  }

  override dispose(): void {
    this.scaledMask?.dispose();
    this.scaledMask = undefined;
    super.dispose();
  }
}

registerLayer('Dropout', DropoutLayer);
