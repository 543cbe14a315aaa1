// Silence: consumes blobs so they are not net outputs. No tops; backward gives zero diffs.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';

export class SilenceLayer extends Layer {
  override bottomCount(): [number, number] {
    return [1, Infinity];
  }
  override topCount(): [number, number] {
    return [0, 0];
  }

  setup(): Shape[] {
    return [];
  }

  compute(): tf.Tensor[] {
    return [];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], _topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    return { bottomDiffs: bottoms.map((b, i) => (propagateDown[i] ? tf.zerosLike(b) : null)), paramDiffs: [] };
  }
}

registerLayer('Silence', SilenceLayer);
