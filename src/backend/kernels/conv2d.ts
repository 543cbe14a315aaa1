// Conv2D for wasm: the shipped kernel rejects dataFormat NCHW ("does not support dataFormat:'channelsFirst'").
// This wrapper runs an NCHW convolution as NHWC between two transposes (kdnet's own layers already convert once
// at their boundary and call the NHWC path directly, which goes straight to the shipped kernel).
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement, nhwcPad } from './replace.js';

export const conv2dWasm = kernelReplacement('Conv2D', 'wasm', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as tf.Conv2DAttrs;
  const original = conv2dWasm.original!;
  if (a.dataFormat !== 'NCHW') return original.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
  return tf.tidy(() => {
    const x = tf.transpose(asTensor(inputs.x!), [0, 2, 3, 1]);
    const y = tf.engine().runKernel('Conv2D', { x, filter: inputs.filter! as tf.Tensor }, { ...attrs, pad: nhwcPad(a.pad) as never, dataFormat: 'NHWC' }) as tf.Tensor;
    return tf.transpose(y, [0, 3, 1, 2]);
  });
});

addWorkaround('wasm', () => conv2dWasm.install());
