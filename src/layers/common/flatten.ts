// Flatten: merges axes axis..end_axis (inclusive) into one. A pure reshape, forward and backward.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf, rejectInPlace } from './util.js';

export class FlattenLayer extends Layer {
  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    rejectInPlace(this);
    return [this.topShape(bottomShapes[0]!)];
  }

  private topShape(shape: Shape): Shape {
    const p = paramOf(this, 'flatten_param', 'FlattenParameter');
    const start = canonicalAxis(this, p.axis, shape, 'flatten_param');
    const end = canonicalAxis(this, p.end_axis, shape, 'flatten_param');
    if (end + 1 < start) throw this.error(`flatten_param.end_axis (${p.end_axis}) comes before axis (${p.axis})`, 'flatten_param');
    return [...shape.slice(0, start), countOf(shape, start, end + 1), ...shape.slice(end + 1)];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [tf.reshape(bottoms[0]!, this.topShape(bottoms[0]!.shape))];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    return { bottomDiffs: [propagateDown[0] ? tf.reshape(topDiffs[0]!, bottoms[0]!.shape) : null], paramDiffs: [] };
  }
}

registerLayer('Flatten', FlattenLayer);
