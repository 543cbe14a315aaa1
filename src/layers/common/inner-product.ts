// InnerProduct (fully connected): the bottom is viewed as a matrix M × K with K = count(axis..end); the top
// is M × N (N = num_output) with the leading axes kept. Weights are N × K (K × N with `transpose`), bias N.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf, shapeText } from './util.js';

export class InnerProductLayer extends Layer {
  private axis = 1;
  private numOutput = 0;
  private inputSize = 0;
  private transpose = false;
  private biasTerm = true;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'inner_product_param', 'InnerProductParameter');
    const shape = bottomShapes[0]!;
    const n = Number(p.num_output);
    if (!(n > 0)) throw this.error('inner_product_param.num_output must be set to a positive number of outputs', 'inner_product_param');
    const axis = canonicalAxis(this, p.axis, shape, 'inner_product_param');
    const k = countOf(shape, axis);
    if (!this.blobs.length) {
      this.numOutput = n;
      this.axis = axis;
      this.inputSize = k;
      this.transpose = p.transpose === true;
      this.biasTerm = p.bias_term !== false;
      this.blobs.push(this.createParam(p.weight_filler ?? undefined, this.transpose ? [k, n] : [n, k], 'inner_product_param.weight_filler'));
      if (this.biasTerm) this.blobs.push(this.createParam(p.bias_filler ?? undefined, [n], 'inner_product_param.bias_filler'));
    } else {
      this.axis = axis;
      if (k !== this.inputSize) {
        throw this.error(
          `input size incompatible with inner product parameters: bottom ${shapeText(shape)} has ${k} values per row from axis ${axis}, but the weights expect ${this.inputSize}`,
          'bottom',
        );
      }
    }
    return [[...shape.slice(0, axis), this.numOutput]];
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const k = this.inputSize;
    const n = this.numOutput;
    const m = x.size / k;
    // Reshape the weights to their nominal shape: a PERMISSIVE-shared blob may come with another shape.
    const w = tf.reshape(params[0]!, this.transpose ? [k, n] : [n, k]);
    let y = tf.matMul(tf.reshape(x, [m, k]), w, false, !this.transpose);
    if (this.biasTerm) y = tf.add(y, tf.reshape(params[1]!, [1, n]));
    return [tf.reshape(y, [...x.shape.slice(0, this.axis), n])];
  }

  // Explicit GEMMs as Caffe: dW = dyᵀ·x (xᵀ·dy when transposed), db = Σ_rows dy, dx = dy·W (dy·Wᵀ).
  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    const x = bottoms[0]!;
    const k = this.inputSize;
    const n = this.numOutput;
    const m = x.size / k;
    const out = tf.tidy(() => {
      const x2 = tf.reshape(x, [m, k]);
      const dy = tf.reshape(topDiffs[0]!, [m, n]);
      const w = tf.reshape(this.blobs[0]!, this.transpose ? [k, n] : [n, k]);
      const dw = this.transpose ? tf.matMul(x2, dy, true, false) : tf.matMul(dy, x2, true, false);
      const diffs: tf.Tensor[] = [tf.reshape(dw, this.blobs[0]!.shape)];
      if (this.biasTerm) diffs.push(tf.reshape(tf.sum(dy, 0), this.blobs[1]!.shape));
      if (propagateDown[0]) diffs.push(tf.reshape(tf.matMul(dy, w, false, this.transpose), x.shape));
      return diffs;
    });
    const paramDiffs = out.slice(0, this.biasTerm ? 2 : 1);
    return { bottomDiffs: [propagateDown[0] ? out[out.length - 1]! : null], paramDiffs };
  }
}

registerLayer('InnerProduct', InnerProductLayer);
