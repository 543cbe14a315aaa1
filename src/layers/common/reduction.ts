// Reduction: reduces all axes from `axis` on (SUM, ASUM = Σ|x|, SUMSQ = Σx², MEAN), times coeff; the top
// keeps the leading axes (a scalar for axis 0). Backward as Caffe: ASUM uses sign(x) with sign(0) = 0.
import * as tf from '@tensorflow/tfjs-core';
import { caffeEnum } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf } from './util.js';

const OP = caffeEnum('ReductionParameter.ReductionOp').values as Record<'SUM' | 'ASUM' | 'SUMSQ' | 'MEAN', number>;

export class ReductionLayer extends Layer {
  private axis = 0;
  private op = OP.SUM;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'reduction_param', 'ReductionParameter');
    const shape = bottomShapes[0]!;
    this.op = p.operation;
    if (!Object.values(OP).includes(this.op)) throw this.error(`unknown reduction_param.operation ${this.op}`, 'reduction_param');
    this.axis = canonicalAxis(this, p.axis, shape, 'reduction_param');
    return [shape.slice(0, this.axis)];
  }

  /** coeff, divided by the reduced count for MEAN (Caffe folds the 1/dim into the coefficient). */
  private coeff(dim: number): number {
    const c = Number(paramOf(this, 'reduction_param', 'ReductionParameter').coeff);
    return this.op === OP.MEAN ? c / dim : c;
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const num = countOf(x.shape, 0, this.axis);
    const dim = countOf(x.shape, this.axis);
    const rows = tf.reshape(x, [num, dim]);
    const term = this.op === OP.ASUM ? tf.abs(rows) : this.op === OP.SUMSQ ? tf.square(rows) : rows;
    let y = tf.sum(term, 1);
    const c = this.coeff(dim);
    if (c !== 1) y = tf.mul(y, c);
    return [tf.reshape(y, x.shape.slice(0, this.axis))];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const x = bottoms[0]!;
    const dx = tf.tidy(() => {
      const num = countOf(x.shape, 0, this.axis);
      const dim = countOf(x.shape, this.axis);
      const scaled = tf.mul(tf.reshape(topDiffs[0]!, [num, 1]), this.coeff(dim));
      const rows = tf.reshape(x, [num, dim]);
      let d: tf.Tensor;
      if (this.op === OP.ASUM) d = tf.mul(tf.sign(rows), scaled);
      else if (this.op === OP.SUMSQ) d = tf.mul(rows, tf.mul(scaled, 2));
      else d = tf.tile(scaled, [1, dim]);
      return tf.reshape(d, x.shape);
    });
    return { bottomDiffs: [dx], paramDiffs: [] };
  }
}

registerLayer('Reduction', ReductionLayer);
