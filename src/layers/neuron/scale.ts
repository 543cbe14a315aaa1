// Scale: y = x * s (+ b with bias_term), s broadcast along x's axes from `axis` (a scalar along everything).
// s is the second bottom or a learned blob of x's shape over [axis, axis + num_axes) (num_axes -1: to the
// end) filled by scale_param.filler (constant 1 if unset). The bias (Caffe's internal Bias layer) spans the
// same axes as s and is filled by bias_filler (constant 0 if unset). Parameter blobs: one bottom [scale,
// bias?]; two bottoms [bias?]. Backward: dx = dy * s, ds = (dy * x) and db = dy summed over the other axes.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { has, newMessage } from '../../proto/schema.js';
import { registerLayer } from '../registry.js';
import { alignOperand, alongAxis, learnedOperandShape, paramMessage, sumAlongAxis } from './neuron-base.js';

export class ScaleLayer extends Layer {
  private readonly p = paramMessage(this, 'scale_param', 'ScaleParameter');
  private readonly biasTerm = this.p.bias_term === true;
  private biasIndex = -1;
  private scaleAxis = 0;
  private biasAxis = 0;

  override bottomCount(): [number, number] {
    return [1, 2];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const x = bottomShapes[0]!;
    const twoBottoms = bottomShapes.length > 1;
    const axisParam = this.p.axis as number;
    if (!this.blobs.length) {
      if (!twoBottoms) {
        const shape = learnedOperandShape(this, x, axisParam, this.p.num_axes as number, 'scale_param');
        const filler = has(this.p, 'filler') ? this.p.filler : newMessage('FillerParameter', { type: 'constant', value: 1 });
        this.blobs.push(this.createParam(filler, shape, 'scale_param.filler'));
      }
      if (this.biasTerm) {
        const numAxes = twoBottoms ? bottomShapes[1]!.length : (this.p.num_axes as number);
        const shape = learnedOperandShape(this, x, axisParam, numAxes, 'scale_param');
        const filler = has(this.p, 'bias_filler') ? this.p.bias_filler : undefined;
        this.biasIndex = this.blobs.length;
        this.blobs.push(this.createParam(filler, shape, 'scale_param.bias_filler'));
      }
    }
    const scale = twoBottoms ? bottomShapes[1]! : this.blobs[0]!.shape;
    this.scaleAxis = alignOperand(this, x, scale, axisParam, twoBottoms ? 'scale bottom' : 'scale blob', twoBottoms ? 'bottom' : 'scale_param').axis;
    if (this.biasTerm) {
      this.biasAxis = alignOperand(this, x, this.blobs[this.biasIndex]!.shape, axisParam, 'bias blob', 'scale_param').axis;
    }
    return [x.slice()];
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    const s = bottoms.length > 1 ? bottoms[1]! : params[0]!;
    let y = alongAxis(bottoms[0]!, s, this.scaleAxis, tf.mul);
    if (this.biasTerm) y = alongAxis(y, params[this.biasIndex]!, this.biasAxis, tf.add);
    return [y];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const x = bottoms[0]!;
    const dy = topDiffs[0]!;
    const twoBottoms = bottoms.length > 1;
    const s = twoBottoms ? bottoms[1]! : this.blobs[0]!;
    const bottomDiffs: (tf.Tensor | null)[] = bottoms.map(() => null);
    const paramDiffs: (tf.Tensor | null)[] = this.blobs.map(() => null);
    if (propagateDown[0]) bottomDiffs[0] = tf.tidy(() => alongAxis(dy, s, this.scaleAxis, tf.mul));
    const wantScale = twoBottoms ? propagateDown[1] === true : !this.frozenBlobs.has(0);
    if (wantScale) {
      const ds = tf.tidy(() => sumAlongAxis(tf.mul(dy, x), s.shape, this.scaleAxis));
      if (twoBottoms) bottomDiffs[1] = ds;
      else paramDiffs[0] = ds;
    }
    if (this.biasTerm && !this.frozenBlobs.has(this.biasIndex)) {
      paramDiffs[this.biasIndex] = tf.tidy(() => sumAlongAxis(dy, this.blobs[this.biasIndex]!.shape, this.biasAxis));
    }
    return { bottomDiffs, paramDiffs };
  }
}

registerLayer('Scale', ScaleLayer);
