// Eltwise: element-wise PROD, SUM (optionally weighted by one coeff per bottom) or MAX of equally shaped
// bottoms. MAX routes the gradient to the bottom Caffe picked: bottom 1 wins a tie with bottom 0, later
// bottoms must be strictly greater. PROD's gradient is the product of the other bottoms (stable_prod_grad)
// or top / bottom.
import * as tf from '@tensorflow/tfjs-core';
import { caffeEnum } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { paramOf, sameShape, shapeText } from './util.js';

const OP = caffeEnum('EltwiseParameter.EltwiseOp').values as Record<'PROD' | 'SUM' | 'MAX', number>;

export class EltwiseLayer extends Layer {
  private op = OP.SUM;
  private coeffs: number[] = [];
  private stableProdGrad = true;

  override bottomCount(): [number, number] {
    return [2, Infinity];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'eltwise_param', 'EltwiseParameter');
    this.op = p.operation;
    const coeff = (p.coeff as number[]).map(Number);
    if (coeff.length && coeff.length !== bottomShapes.length) {
      throw this.error(`eltwise_param.coeff has ${coeff.length} value(s) for ${bottomShapes.length} bottoms: give one per bottom or none`, 'eltwise_param');
    }
    if (coeff.length && this.op !== OP.SUM) throw this.error('eltwise_param.coeff only applies to operation SUM', 'eltwise_param');
    this.coeffs = bottomShapes.map((_, i) => coeff[i] ?? 1);
    this.stableProdGrad = p.stable_prod_grad !== false;
    const first = bottomShapes[0]!;
    bottomShapes.forEach((s, i) => {
      if (!sameShape(s, first)) throw this.error(`all bottoms must have the same shape: bottom 0 is ${shapeText(first)}, bottom ${i} is ${shapeText(s)}`, 'bottom');
    });
    return [first.slice()];
  }

  /** The index of the bottom Caffe takes the maximum from, and the maximum. */
  private maxRouting(bottoms: tf.Tensor[]): { index: tf.Tensor; value: tf.Tensor } {
    const a = bottoms[0]!;
    const b = bottoms[1]!;
    const aWins = tf.greater(a, b);
    let index: tf.Tensor = tf.where(aWins, tf.zerosLike(a), tf.onesLike(a));
    let value: tf.Tensor = tf.where(aWins, a, b);
    for (let k = 2; k < bottoms.length; k++) {
      const bk = bottoms[k]!;
      const wins = tf.greater(bk, value);
      index = tf.where(wins, tf.fill(a.shape, k), index);
      value = tf.where(wins, bk, value);
    }
    return { index, value };
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    if (this.op === OP.PROD) {
      let y = tf.mul(bottoms[0]!, bottoms[1]!);
      for (let i = 2; i < bottoms.length; i++) y = tf.mul(y, bottoms[i]!);
      return [y];
    }
    if (this.op === OP.MAX) return [this.maxRouting(bottoms).value];
    let y: tf.Tensor | undefined;
    bottoms.forEach((b, i) => {
      const term = this.coeffs[i] === 1 ? b : tf.mul(b, this.coeffs[i]!);
      y = y ? tf.add(y, term) : tf.clone(term);
    });
    return [y!];
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    const dy = topDiffs[0]!;
    const routing = this.op === OP.MAX && propagateDown.some(Boolean) ? tf.tidy(() => this.maxRouting(bottoms).index) : undefined;
    const bottomDiffs = bottoms.map((b, i) => {
      if (!propagateDown[i]) return null;
      return tf.tidy(() => {
        if (this.op === OP.SUM) return this.coeffs[i] === 1 ? tf.clone(dy) : tf.mul(dy, this.coeffs[i]!);
        if (this.op === OP.MAX) return tf.where(tf.equal(routing!, i), dy, tf.zerosLike(dy));
        if (this.stableProdGrad) {
          let others: tf.Tensor | undefined;
          bottoms.forEach((o, j) => {
            if (j !== i) others = others ? tf.mul(others, o) : o;
          });
          return tf.mul(others!, dy);
        }
        return tf.mul(tf.div(tops[0]!, b), dy);
      });
    });
    routing?.dispose();
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('Eltwise', EltwiseLayer);
