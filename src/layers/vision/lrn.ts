// LRN (Caffe's local response normalization), y = x · scale^(−β):
//   ACROSS_CHANNELS  scale = k + α/n · Σ x² over the n channels centred on each channel (zero beyond the ends)
//   WITHIN_CHANNEL   scale = 1 + α/n² · Σ x² over the n × n spatial window centred on each pixel (zero padding;
//                    Caffe builds it from Pooling AVE with pad (n−1)/2, whose divisor is always n², and
//                    Power with shift 1 — so k plays no part)
// The backward is the exact derivative, as Caffe's. ACROSS_CHANNELS runs on tfjs' LRN / LRNGrad kernels
// (NHWC, depth radius (n−1)/2, alpha α/n); WITHIN_CHANNEL on window sums (depthwise convolutions with a ones
// filter) like AVE pooling.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { caffeEnum, type Message } from '../../proto/schema.js';
import { paramOf, shapeText } from './util.js';
import { toNchw, toNhwc } from './conv-ops.js';

const REGION = caffeEnum('LRNParameter.NormRegion').values as Record<string, number>;

export class LRNLayer extends Layer {
  private size = 5;
  private alpha = 1;
  private beta = 0.75;
  private k = 1;
  private within = false;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p: Message = paramOf(this, 'lrn_param', 'LRNParameter');
    const shape = bottomShapes[0]!;
    this.size = Number(p.local_size);
    if (!(this.size > 0) || this.size % 2 !== 1) throw this.error(`LRN only supports odd values for local_size (got ${this.size})`, 'lrn_param');
    this.alpha = Number(p.alpha);
    this.beta = Number(p.beta);
    this.k = Number(p.k);
    const region = Number(p.norm_region);
    if (region !== REGION.ACROSS_CHANNELS && region !== REGION.WITHIN_CHANNEL) throw this.error(`unknown LRN norm_region ${region}`, 'lrn_param');
    this.within = region === REGION.WITHIN_CHANNEL;
    if (shape.length !== 4) throw this.error(`input must have 4 axes (num, channels, height, width); bottom is ${shapeText(shape)}`, 'bottom');
    return [shape.slice()];
  }

  private get radius(): number {
    return (this.size - 1) / 2;
  }

  private acrossAttrs() {
    return { depthRadius: this.radius, bias: this.k, alpha: this.alpha / this.size, beta: this.beta };
  }

  /** Σ over the n × n window around each pixel (zero padding), NHWC. */
  private windowSums(x: tf.Tensor4D): tf.Tensor4D {
    const r = this.radius;
    return tf.depthwiseConv2d(x, tf.ones([this.size, this.size, x.shape[3], 1]) as tf.Tensor4D, 1, [
      [0, 0],
      [r, r],
      [r, r],
      [0, 0],
    ]);
  }

  /** Transpose of windowSums (the window is symmetric, so it is the same window sum). */
  private windowSumsBackward(dy: tf.Tensor4D): tf.Tensor4D {
    return this.windowSums(dy);
  }

  private withinScale(x: tf.Tensor4D): tf.Tensor4D {
    return tf.add(tf.mul(this.windowSums(tf.square(x)), this.alpha / (this.size * this.size)), 1);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = toNhwc(bottoms[0] as tf.Tensor4D);
    if (!this.within) return [toNchw(tf.engine().runKernel('LRN', { x }, this.acrossAttrs()) as tf.Tensor4D)];
    return [toNchw(tf.mul(x, tf.pow(this.withinScale(x), -this.beta)))];
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const dx = tf.tidy(() => {
      const x = toNhwc(bottoms[0] as tf.Tensor4D);
      const dy = toNhwc(topDiffs[0] as tf.Tensor4D);
      if (!this.within) {
        const y = toNhwc(tops[0] as tf.Tensor4D);
        return toNchw(tf.engine().runKernel('LRNGrad', { x, y, dy }, this.acrossAttrs()) as tf.Tensor4D);
      }
      // dx = dy·s^(−β) − 2αβ/n² · x · Σ_windows(dy · x · s^(−β−1))
      const s = this.withinScale(x);
      const direct = tf.mul(dy, tf.pow(s, -this.beta));
      const inner = this.windowSumsBackward(tf.mul(tf.mul(dy, x), tf.pow(s, -this.beta - 1)));
      const coeff = (2 * this.alpha * this.beta) / (this.size * this.size);
      return toNchw(tf.sub(direct, tf.mul(tf.mul(x, coeff), inner)));
    });
    return { bottomDiffs: [dx], paramDiffs: [] };
  }
}

registerLayer('LRN', LRNLayer);
