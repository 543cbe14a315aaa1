// Bias: y = x + b, with b broadcast along x's axes from `axis` (a scalar b along everything). b is the
// second bottom or a learned blob of x's shape over [axis, axis + num_axes) (num_axes -1: to the end),
// filled by bias_param.filler (constant 0 if unset). Backward: dx = dy, db = dy summed over the other axes.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { has } from '../../proto/schema.js';
import { registerLayer } from '../registry.js';
import { alignOperand, alongAxis, learnedOperandShape, paramMessage, sumAlongAxis } from './neuron-base.js';

export class BiasLayer extends Layer {
  private readonly p = paramMessage(this, 'bias_param', 'BiasParameter');
  private axis = 0;

  override bottomCount(): [number, number] {
    return [1, 2];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const x = bottomShapes[0]!;
    if (bottomShapes.length === 1 && !this.blobs.length) {
      const shape = learnedOperandShape(this, x, this.p.axis as number, this.p.num_axes as number, 'bias_param');
      this.blobs.push(this.createParam(has(this.p, 'filler') ? this.p.filler : undefined, shape, 'bias_param.filler'));
    }
    const operand = bottomShapes.length > 1 ? bottomShapes[1]! : this.blobs[0]!.shape;
    const where = bottomShapes.length > 1 ? 'bottom' : 'bias_param';
    this.axis = alignOperand(this, x, operand, this.p.axis as number, bottomShapes.length > 1 ? 'bias bottom' : 'bias blob', where).axis;
    return [x.slice()];
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    const b = bottoms.length > 1 ? bottoms[1]! : params[0]!;
    return [alongAxis(bottoms[0]!, b, this.axis, tf.add)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const dy = topDiffs[0]!;
    const twoBottoms = bottoms.length > 1;
    const operandShape = twoBottoms ? bottoms[1]!.shape : this.blobs[0]!.shape;
    const dx = propagateDown[0] ? tf.clone(dy) : null;
    const wantOperand = twoBottoms ? propagateDown[1] === true : !this.frozenBlobs.has(0);
    const db = wantOperand ? tf.tidy(() => sumAlongAxis(dy, operandShape, this.axis)) : null;
    return twoBottoms ? { bottomDiffs: [dx, db], paramDiffs: [] } : { bottomDiffs: [dx], paramDiffs: [db] };
  }
}

registerLayer('Bias', BiasLayer);
