// Convolution (Caffe's ConvolutionLayer): y = W ⊛ x + b with weights [num_output, channels/group, kh, kw],
// grouped (group > 1; depthwise when group == channels), dilated, strided and zero-padded per axis.
import type * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { BaseConvolutionLayer, convBackwardData, convBackwardFilter, convForward } from './conv-base.js';
import { convOutputSize } from './conv-ops.js';
import { nchwConvBackwardData, nchwConvBackwardFilter, nchwConvForward } from '../../backend/native/caffe-conv.js';

export class ConvolutionLayer extends BaseConvolutionLayer {
  protected readonly reverse = false;

  protected outputSpatial(input: [number, number]): [number, number] {
    return convOutputSize(input, this.geometry);
  }
  protected apply(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined): tf.Tensor4D {
    return convForward(x, w, this.geometry, b);
  }
  protected applyBackwardData(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number]): tf.Tensor4D {
    return convBackwardData(dy, w, xShape, this.geometry);
  }
  protected applyBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
    const [o, i] = this.weightShape as [number, number];
    return convBackwardFilter(x, dy, [this.geometry.kernel[0], this.geometry.kernel[1], i, o], this.geometry);
  }
  protected override applyNchw(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined): tf.Tensor4D | undefined {
    return nchwConvForward(x, w, b, this.geometry);
  }
  protected override applyNchwBackwardData(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number]): tf.Tensor4D | undefined {
    return nchwConvBackwardData(dy, w, xShape, this.geometry);
  }
  protected override applyNchwBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D, withBias: boolean): { dW: tf.Tensor4D; dB?: tf.Tensor1D } | undefined {
    return nchwConvBackwardFilter(x, dy, this.geometry, withBias);
  }
}

registerLayer('Convolution', ConvolutionLayer);
