// Im2col (Caffe's Im2colLayer): every kernel window becomes a column, [N, C, H, W] → [N, C·kh·kw, OH, OW] with
// channel index (c·kh + i)·kw + j, using Convolution's kernel/stride/pad/dilation (group is ignored). Runs as
// a convolution of each channel (channels folded into the batch) with one-hot filters, one per window
// element; its backward (col2im: every column entry added back where it came from) is that convolution's
// input gradient. (A one-hot filter multiplies the other window elements by 0, so an inf/NaN input also
// spoils its window neighbours' columns, unlike Caffe's copy.)
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { parseConvGeometry } from './conv-base.js';
import { type ConvGeometry, convBackwardData, convForward, convOutputSize } from './conv-ops.js';
import { canonicalAxis, countOf, paramOf, shapeText } from './util.js';

export class Im2colLayer extends Layer {
  private geometry!: ConvGeometry;
  private axis = 1;
  private nsp = 2;
  private out: [number, number] = [0, 0];

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'convolution_param', 'ConvolutionParameter');
    const shape = bottomShapes[0]!;
    const axis = canonicalAxis(this, Number(p.axis), shape, 'convolution_param');
    const nsp = shape.length - axis - 1;
    if (nsp < 1) throw this.error(`Im2col needs at least one spatial axis after the channel axis ${axis}; bottom is ${shapeText(shape)}`, 'bottom');
    if (nsp > 2) throw this.error(`${nsp}-D im2col (bottom ${shapeText(shape)}) is not supported by kdnet: only 1-D and 2-D spatial`, 'bottom');
    const g = parseConvGeometry(this, p, nsp);
    this.geometry = { ...g, group: 1 };
    this.axis = axis;
    this.nsp = nsp;
    const spatial: [number, number] = nsp === 1 ? [1, shape[axis + 1]!] : [shape[axis + 1]!, shape[axis + 2]!];
    this.out = convOutputSize(spatial, this.geometry);
    if (!(this.out[0] > 0 && this.out[1] > 0)) throw this.error(`output would be empty: spatial input ${spatial.slice(2 - nsp).join(' x ')} gives an output of ${this.out.slice(2 - nsp).join(' x ')}`, 'convolution_param');
    const k = g.kernel[0] * g.kernel[1];
    return [[...shape.slice(0, axis), shape[axis]! * k, ...(nsp === 1 ? [this.out[1]] : this.out)]];
  }

  /** One-hot HWIO filters [kh, kw, 1, kh·kw]: output channel i·kw + j picks window element (i, j). */
  private eye(): tf.Tensor4D {
    const [kh, kw] = this.geometry.kernel;
    const k = kh * kw;
    const v = new Float32Array(k * k);
    for (let q = 0; q < k; q++) v[q * k + q] = 1;
    return tf.tensor4d(v, [kh, kw, 1, k]);
  }

  /** Bottom as [lead·C, H, W, 1] (each channel its own image). */
  private images(x: tf.Tensor): tf.Tensor4D {
    const lead = countOf(x.shape, 0, this.axis + 1);
    const [h, w] = this.nsp === 1 ? [1, x.shape[this.axis + 1]!] : [x.shape[this.axis + 1]!, x.shape[this.axis + 2]!];
    return tf.reshape(x, [lead, h, w, 1]);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const [kh, kw] = this.geometry.kernel;
    const k = kh * kw;
    const lead = countOf(x.shape, 0, this.axis);
    const c = x.shape[this.axis]!;
    const cols = convForward(this.images(x), this.eye(), this.geometry); // [lead·C, OH, OW, K]
    const [oh, ow] = this.out;
    const nchw = tf.transpose(tf.reshape(cols, [lead, c, oh, ow, k]), [0, 1, 4, 2, 3]);
    return [tf.reshape(nchw, [...x.shape.slice(0, this.axis), c * k, ...(this.nsp === 1 ? [ow] : [oh, ow])])];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const x = bottoms[0]!;
    const dx = tf.tidy(() => {
      const [kh, kw] = this.geometry.kernel;
      const k = kh * kw;
      const lead = countOf(x.shape, 0, this.axis);
      const c = x.shape[this.axis]!;
      const [oh, ow] = this.out;
      const dcols = tf.reshape(tf.transpose(tf.reshape(topDiffs[0]!, [lead, c, k, oh, ow]), [0, 1, 3, 4, 2]), [lead * c, oh, ow, k]) as tf.Tensor4D;
      const img = this.images(x);
      return tf.reshape(convBackwardData(dcols, this.eye(), img.shape, this.geometry), x.shape);
    });
    return { bottomDiffs: [dx], paramDiffs: [] };
  }
}

registerLayer('Im2col', Im2colLayer);
