// Deconvolution (Caffe's DeconvolutionLayer): the transposed convolution — its forward is the input gradient
// of a convolution whose input is the deconvolution's output. Weights [channels, num_output/group, kh, kw];
// output size stride·(in − 1) + extent − 2·pad per spatial axis.
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { BaseConvolutionLayer, convBackwardData, convBackwardFilter, convForward } from './conv-base.js';
import { deconvOutputSize } from './conv-ops.js';

export class DeconvolutionLayer extends BaseConvolutionLayer {
  protected readonly reverse = true;

  protected outputSpatial(input: [number, number]): [number, number] {
    return deconvOutputSize(input, this.geometry);
  }
  protected apply(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined): tf.Tensor4D {
    const [n, h, wd] = x.shape;
    const [oh, ow] = deconvOutputSize([h, wd], this.geometry);
    const y = convBackwardData(x, w, [n, oh, ow, this.numOutput], this.geometry);
    return b ? tf.add(y, b) : y;
  }
  protected applyBackwardData(dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
    return convForward(dy, w, this.geometry);
  }
  protected applyBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
    const [o, i] = this.weightShape as [number, number];
    // The computed convolution runs from this layer's top (dy here) to its bottom (x).
    return convBackwardFilter(dy, x, [this.geometry.kernel[0], this.geometry.kernel[1], i, o], this.geometry);
  }
}

registerLayer('Deconvolution', DeconvolutionLayer);
