// Split: copies its bottom to every top (Caffe inserts these for blobs used twice; files may also name them
// explicitly). Backward sums the top diffs.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { rejectInPlace } from './util.js';

export class SplitLayer extends Layer {
  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, Infinity];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    rejectInPlace(this);
    return (this.param.top as string[]).map(() => bottomShapes[0]!.slice());
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return (this.param.top as string[]).map(() => tf.clone(bottoms[0]!));
  }

  override backward(_bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    return { bottomDiffs: [topDiffs.length === 1 ? tf.clone(topDiffs[0]!) : tf.addN(topDiffs)], paramDiffs: [] };
  }
}

registerLayer('Split', SplitLayer);
