// BatchReindex: top[i] = bottom0[bottom1[i]] along the first axis (select, reorder or repeat samples).
// The index bottom is 1-D; its float values are truncated to integers and must lie in [0, N).
// Backward sums the top diff rows into the rows they came from; the indices get no gradient.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { scatterAddRows, shapeText } from './util.js';

export class BatchReindexLayer extends Layer {
  override bottomCount(): [number, number] {
    return [2, 2];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }
  override allowForceBackward(i: number): boolean {
    return i === 0;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const [data, index] = bottomShapes as [Shape, Shape];
    if (index.length !== 1) throw this.error(`the index bottom must be 1-D, got shape ${shapeText(index)}`, 'bottom');
    if (data.length < 1) throw this.error('the data bottom needs at least one axis', 'bottom');
    return [[index[0]!, ...data.slice(1)]];
  }

  /** The indices as integers, checked against the batch size. */
  private indices(data: tf.Tensor, index: tf.Tensor): Int32Array {
    const n = data.shape[0]!;
    const values = index.dataSync();
    const out = new Int32Array(values.length);
    values.forEach((v, i) => {
      if (!(v >= 0)) throw this.error(`index ${i} of the index bottom is ${v}: indices must not be negative`);
      if (!(v < n)) throw this.error(`index ${i} of the index bottom is ${v}: indices must be below the batch size ${n}`);
      out[i] = Math.trunc(v);
    });
    return out;
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [tf.gather(bottoms[0]!, tf.tensor1d(this.indices(bottoms[0]!, bottoms[1]!), 'int32'), 0)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (propagateDown[1]) throw this.error('BatchReindex cannot backpropagate to its index bottom (set propagate_down: false for it)', 'propagate_down');
    if (!propagateDown[0]) return { bottomDiffs: [null, null], paramDiffs: [] };
    const x = bottoms[0]!;
    const dx = tf.tidy(() => {
      const idx = this.indices(x, bottoms[1]!);
      return tf.reshape(scatterAddRows(topDiffs[0]!, idx, x.shape[0]!), x.shape);
    });
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('BatchReindex', BatchReindexLayer);
