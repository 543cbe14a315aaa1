// Crop (Caffe's CropLayer): bottom[0] cut to the shape of bottom[1] on every axis from `axis` on, starting at
// `offset` (none: 0 everywhere; one value: the same for every cropped axis; else one per cropped axis). The
// axes before `axis` are kept. Only bottom[0] gets a gradient (the cropped-away part gets zeros); bottom[1]
// only supplies a shape.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, paramOf, shapeText } from './util.js';

export class CropLayer extends Layer {
  private offsets: number[] = [];
  private outShape: Shape = [];

  override bottomCount(): [number, number] {
    return [2, 2];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex === 0;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'crop_param', 'CropParameter');
    const [data, ref] = bottomShapes as [Shape, Shape];
    const axis = canonicalAxis(this, Number(p.axis), data, 'crop_param');
    const given = (p.offset as number[]).map(Number);
    const cropped = data.length - axis;
    if (given.length > 1 && given.length !== cropped) {
      throw this.error(`number of offset values specified must be equal to the number of dimensions following axis: ${given.length} offsets for ${cropped} cropped axes (axis ${axis} of a ${data.length}-D bottom)`, 'crop_param');
    }
    if (ref.length < data.length) {
      throw this.error(`the reference bottom ${shapeText(ref)} has fewer axes than the cropped bottom ${shapeText(data)}`, 'bottom');
    }
    this.offsets = data.map(() => 0);
    this.outShape = data.slice();
    for (let i = axis; i < data.length; i++) {
      const offset = given.length === 0 ? 0 : given.length === 1 ? given[0]! : given[i - axis]!;
      if (data[i]! - offset < ref[i]!) {
        throw this.error(`the crop for dimension ${i} is out-of-bounds with size ${ref[i]} and offset ${offset} (bottom ${shapeText(data)}, reference ${shapeText(ref)})`, 'crop_param');
      }
      this.offsets[i] = offset;
      this.outShape[i] = ref[i]!;
    }
    return [this.outShape.slice()];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [tf.slice(bottoms[0]!, this.offsets, this.outShape)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const data = bottoms[0]!;
    const dx = propagateDown[0]
      ? tf.tidy(() =>
          tf.pad(
            topDiffs[0]!,
            this.offsets.map((o, i) => [o, data.shape[i]! - o - this.outShape[i]!] as [number, number]),
          ),
        )
      : null;
    return { bottomDiffs: [dx, null], paramDiffs: [] };
  }
}

registerLayer('Crop', CropLayer);
