// InnerProduct (fully connected): the bottom is viewed as a matrix M × K with K = count(axis..end); the top
// is M × N (N = num_output) with the leading axes kept. Weights are N × K (K × N with `transpose`), bias N.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf, shapeText } from './util.js';
import { reshapeTo } from '../tensor-shape.js';
import { nativeFlatGemm } from '../../backend/native/flat-gemm.js';

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
    // y = x·Wᵀ (x·W when transposed) + b; the weights are read at their nominal shape (a PERMISSIVE-shared
    // blob may come with another one).
    const y = gemm(x, [m, k], params[0]!, this.transpose ? [k, n] : [n, k], false, !this.transpose, this.biasTerm ? params[1] : undefined);
    return [reshapeTo(y, [...x.shape.slice(0, this.axis), n])];
  }

  // Explicit GEMMs as Caffe: dW = dyᵀ·x (xᵀ·dy when transposed), db = Σ_rows dy, dx = dy·W (dy·Wᵀ).
  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    const x = bottoms[0]!;
    const k = this.inputSize;
    const n = this.numOutput;
    const m = x.size / k;
    const out = tf.tidy(() => {
      const dy = topDiffs[0]!;
      const dw = this.transpose ? gemm(x, [m, k], dy, [m, n], true, false) : gemm(dy, [m, n], x, [m, k], true, false);
      const diffs: tf.Tensor[] = [reshapeTo(dw, this.blobs[0]!.shape)];
      if (this.biasTerm) diffs.push(reshapeTo(tf.sum(reshapeTo(dy, [m, n]), 0), this.blobs[1]!.shape));
      if (propagateDown[0]) diffs.push(reshapeTo(gemm(dy, [m, n], this.blobs[0]!, this.transpose ? [k, n] : [n, k], false, this.transpose), x.shape));
      return diffs;
    });
    const paramDiffs = out.slice(0, this.biasTerm ? 2 : 1);
    return { bottomDiffs: [propagateDown[0] ? out[out.length - 1]! : null], paramDiffs };
  }
}

/**
 * op(a)·op(b) (+ bias on every row) with `a` and `b` read as the row-major matrices `aShape` and `bShape`:
 * one native kernel when the backend has it, else tfjs' matMul (and add).
 */
function gemm(a: tf.Tensor, aShape: [number, number], b: tf.Tensor, bShape: [number, number], transA: boolean, transB: boolean, bias?: tf.Tensor): tf.Tensor2D {
  const [m, k] = transA ? [aShape[1], aShape[0]] : aShape;
  const n = transB ? bShape[0] : bShape[1];
  const native = nativeFlatGemm(a, b, { m, n, k, transA, transB }, bias);
  if (native) return native;
  const y = tf.matMul(reshapeTo<tf.Rank.R2>(a, aShape), reshapeTo<tf.Rank.R2>(b, bShape), transA, transB) as tf.Tensor2D;
  return bias ? tf.add(y, reshapeTo<tf.Rank.R2>(bias, [1, n])) : y;
}

registerLayer('InnerProduct', InnerProductLayer);
