// Slice: cuts its bottom along one axis (slice_param.axis, or the legacy non-negative slice_dim) at the
// given slice_points, or into equal parts when none are given. Backward places each top diff back.
import * as tf from '@tensorflow/tfjs-core';
import { has } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, paramOf, shapeText } from './util.js';

export class SliceLayer extends Layer {
  private axis = 1;
  private sizes: number[] = [];

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, Infinity];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'slice_param', 'SliceParameter');
    if (has(p, 'axis') && has(p, 'slice_dim')) throw this.error('give either slice_param.axis or the legacy slice_dim, not both', 'slice_param');
    const shape = bottomShapes[0]!;
    if (has(p, 'slice_dim')) {
      const d = Number(p.slice_dim);
      if (d >= shape.length) throw this.error(`slice_dim ${d} is out of range for a ${shape.length}-D bottom of shape ${shapeText(shape)}`, 'slice_param');
      this.axis = d;
    } else {
      this.axis = canonicalAxis(this, p.axis, shape, 'slice_param');
    }
    const nTops = (this.param.top as string[]).length;
    const dim = shape[this.axis]!;
    const points = (p.slice_point as number[]).map(Number);
    if (points.length) {
      if (points.length !== nTops - 1) {
        throw this.error(`slice_point has ${points.length} value(s) for ${nTops} top(s): give one fewer than the number of tops`, 'slice_param');
      }
      if (nTops > dim) throw this.error(`cannot slice axis ${this.axis} of size ${dim} into ${nTops} tops`, 'slice_param');
      let prev = 0;
      this.sizes = [];
      for (const pt of points) {
        if (!(pt > prev)) throw this.error(`slice_point values must be strictly increasing and positive (got ${points.join(', ')})`, 'slice_param');
        this.sizes.push(pt - prev);
        prev = pt;
      }
      if (prev > dim) throw this.error(`slice_point ${prev} is beyond the size ${dim} of axis ${this.axis}`, 'slice_param');
      this.sizes.push(dim - prev);
    } else {
      if (dim % nTops !== 0) throw this.error(`${nTops} tops do not evenly divide axis ${this.axis} of size ${dim}: give slice_point values`, 'slice_param');
      this.sizes = Array.from({ length: nTops }, () => dim / nTops);
    }
    return this.sizes.map((s) => shape.map((d, a) => (a === this.axis ? s : d)));
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    if (this.sizes.length === 1) return [tf.clone(x)];
    let offset = 0;
    return this.sizes.map((s) => {
      const begin = x.shape.map((_, a) => (a === this.axis ? offset : 0));
      const size = x.shape.map((d, a) => (a === this.axis ? s : d));
      offset += s;
      return tf.slice(x, begin, size);
    });
  }

  override backward(_bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const parts = topDiffs.filter((d) => d.size > 0);
    const dx = parts.length === 1 ? tf.clone(parts[0]!) : tf.concat(parts, this.axis);
    return { bottomDiffs: [dx], paramDiffs: [] };
  }
}

registerLayer('Slice', SliceLayer);
