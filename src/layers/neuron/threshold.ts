// Threshold: y = x > threshold ? 1 : 0. Caffe has no backward for it (Backward_cpu is NOT_IMPLEMENTED and
// aborts with "Not Implemented Yet" whenever the net asks it for one, e.g. under force_backward).
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardResult } from '../layer.js';
import { registerLayer } from '../registry.js';
import { NeuronLayer, f32, mask, paramMessage } from './neuron-base.js';

export class ThresholdLayer extends NeuronLayer {
  private readonly threshold = f32(paramMessage(this, 'threshold_param', 'ThresholdParameter').threshold as number);

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    return [mask(tf.greater(x!, this.threshold))];
  }

  protected gradient(): tf.Tensor {
    throw this.backwardError();
  }

  override backward(): BackwardResult {
    throw this.backwardError();
  }

  private backwardError() {
    return this.error(
      'Threshold has no backward pass: Caffe aborts with "Not Implemented Yet" when a net backpropagates through it ' +
        '(force_backward, or layers with learnable parameters below it that feed a loss)',
    );
  }
}

registerLayer('Threshold', ThresholdLayer);
