// Parameter: no bottoms; its single top is its parameter blob (shape parameter_param.shape, zeros until
// weights are loaded), so the top's diff is the parameter's diff.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { paramOf, shapeText } from './util.js';

export class ParameterLayer extends Layer {
  override bottomCount(): [number, number] {
    return [0, 0];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(): Shape[] {
    const p = paramOf(this, 'parameter_param', 'ParameterParameter');
    const shape = ((p.shape?.dim ?? []) as number[]).map(Number);
    if (shape.some((d) => !(d >= 0))) throw this.error(`parameter_param.shape ${shapeText(shape)} has a negative dimension`, 'parameter_param');
    if (!this.blobs.length) this.blobs.push(this.createParam(undefined, shape, 'parameter_param'));
    return [this.blobs[0]!.shape.slice()];
  }

  compute(_bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    return [tf.clone(params[0]!)];
  }

  override backward(_bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[]) {
    return { bottomDiffs: [], paramDiffs: [tf.clone(topDiffs[0]!)] };
  }
}

registerLayer('Parameter', ParameterLayer);
