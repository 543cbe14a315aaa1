// Concat: joins its bottoms along one axis (concat_param.axis, or the legacy non-negative concat_dim); every
// other axis must agree. Backward hands each bottom its slice of the top diff.
import * as tf from '@tensorflow/tfjs-core';
import { has } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, paramOf, shapeText } from './util.js';

export class ConcatLayer extends Layer {
  private axis = 1;

  override bottomCount(): [number, number] {
    return [1, Infinity];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'concat_param', 'ConcatParameter');
    if (has(p, 'axis') && has(p, 'concat_dim')) throw this.error('give either concat_param.axis or the legacy concat_dim, not both', 'concat_param');
    const first = bottomShapes[0]!;
    const n = first.length;
    if (has(p, 'concat_dim')) {
      const d = Number(p.concat_dim);
      if (d >= n) throw this.error(`concat_dim ${d} is out of range for ${n}-D bottoms of shape ${shapeText(first)}`, 'concat_param');
      this.axis = d;
    } else {
      this.axis = canonicalAxis(this, p.axis, first, 'concat_param');
    }
    const out = first.slice();
    bottomShapes.forEach((s, i) => {
      if (i === 0) return;
      if (s.length !== n) throw this.error(`all bottoms must have the same number of axes: bottom 0 is ${shapeText(first)}, bottom ${i} is ${shapeText(s)}`, 'bottom');
      for (let a = 0; a < n; a++) {
        if (a !== this.axis && s[a] !== first[a]) {
          throw this.error(`all bottoms must have the same shape except at the concat axis ${this.axis}: bottom 0 is ${shapeText(first)}, bottom ${i} is ${shapeText(s)}`, 'bottom');
        }
      }
      out[this.axis]! += s[this.axis]!;
    });
    return [out];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [bottoms.length === 1 ? tf.clone(bottoms[0]!) : tf.concat(bottoms, this.axis)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    const dy = topDiffs[0]!;
    let offset = 0;
    const bottomDiffs = bottoms.map((b, i) => {
      const size = b.shape[this.axis]!;
      const begin = dy.shape.map((_, a) => (a === this.axis ? offset : 0));
      const extent = b.shape.slice();
      offset += size;
      return propagateDown[i] ? tf.slice(dy, begin, extent) : null;
    });
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('Concat', ConcatLayer);
