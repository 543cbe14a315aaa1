// Embed: each index of the bottom (a float holding an integer in [0, input_dim)) selects a row of the
// input_dim × num_output weight matrix; bias_term adds a bias of num_output. The top has the bottom's shape
// plus a last axis of num_output. Indices get no gradient; weight rows accumulate the diffs of their uses.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { paramOf, scatterAddRows } from './util.js';

export class EmbedLayer extends Layer {
  private numOutput = 0;
  private inputDim = 0;
  private biasTerm = true;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }
  override allowForceBackward(): boolean {
    return false;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'embed_param', 'EmbedParameter');
    if (!this.blobs.length) {
      this.numOutput = Number(p.num_output);
      this.inputDim = Number(p.input_dim);
      this.biasTerm = p.bias_term !== false;
      if (!(this.numOutput > 0)) throw this.error('embed_param.num_output must be positive', 'embed_param');
      if (!(this.inputDim > 0)) throw this.error('embed_param.input_dim (the number of distinct indices) must be positive', 'embed_param');
      this.blobs.push(this.createParam(p.weight_filler ?? undefined, [this.inputDim, this.numOutput], 'embed_param.weight_filler'));
      if (this.biasTerm) this.blobs.push(this.createParam(p.bias_filler ?? undefined, [this.numOutput], 'embed_param.bias_filler'));
    }
    return [[...bottomShapes[0]!, this.numOutput]];
  }

  /** The bottom's values as row numbers (truncated like Caffe's cast), checked against input_dim. */
  private indices(x: tf.Tensor): Int32Array {
    const values = x.dataSync();
    const out = new Int32Array(values.length);
    values.forEach((v, i) => {
      const k = Math.trunc(v);
      if (!(k >= 0 && k < this.inputDim)) {
        throw this.error(`index ${v} at position ${i} of the bottom is outside [0, ${this.inputDim}) (embed_param.input_dim)`);
      }
      out[i] = k;
    });
    return out;
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    let y = tf.gather(tf.reshape(params[0]!, [this.inputDim, this.numOutput]), tf.tensor1d(this.indices(x), 'int32'), 0);
    if (this.biasTerm) y = tf.add(y, tf.reshape(params[1]!, [1, this.numOutput]));
    return [tf.reshape(y, [...x.shape, this.numOutput])];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (propagateDown[0]) throw this.error('Embed cannot backpropagate to its index input (set propagate_down: false)', 'propagate_down');
    const paramDiffs = tf.tidy(() => {
      const idx = this.indices(bottoms[0]!);
      const dy = tf.reshape(topDiffs[0]!, [idx.length, this.numOutput]);
      const dw = tf.reshape(scatterAddRows(dy, idx, this.inputDim), this.blobs[0]!.shape);
      return this.biasTerm ? [dw, tf.sum(dy, 0)] : [dw];
    });
    return { bottomDiffs: [null], paramDiffs };
  }
}

registerLayer('Embed', EmbedLayer);
