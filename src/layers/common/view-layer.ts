// Layers that only change a blob's shape (Flatten, Reshape): one bottom, one top, the same data, and a
// backward that reshapes the diff back. Subclasses say how the shape changes.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { rejectInPlace } from './util.js';

export abstract class ViewLayer extends Layer {
  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  /** The top's shape for a bottom of `shape` (checks the layer's parameters). */
  protected abstract topShape(shape: Shape): Shape;

  setup(bottomShapes: Shape[]): Shape[] {
    rejectInPlace(this);
    return [this.topShape(bottomShapes[0]!)];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [tf.reshape(bottoms[0]!, this.topShape(bottoms[0]!.shape))];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    return { bottomDiffs: [propagateDown[0] ? tf.reshape(topDiffs[0]!, bottoms[0]!.shape) : null], paramDiffs: [] };
  }
}
