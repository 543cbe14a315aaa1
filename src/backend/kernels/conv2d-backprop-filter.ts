// Conv2DBackpropFilter for wasm, which has none (tf.grad of a conv2d and every explicit filter gradient throw
// "kernel not found"). The filter gradient dW[i,j,c,o] = Σ_{n,y,x} xpad[n, y·sh+i, x·sw+j, c] · dy[n,y,x,o] is
// itself a convolution: batch and channels of x swap places ([C, H, W, N]), dy becomes the filter
// ([OH, OW, N, O]) and the forward strides become dilations. That runs on wasm's fast Conv2D (XNNPACK).
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement, spatialPadding, nhwcPad, pair, type Pad } from './replace.js';

export function conv2dBackpropFilterViaConv2d(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const [kh, kw, c, o] = filterShape;
    const { top, bottom, left, right } = info.padInfo;
    const xs = tf.transpose(x, [3, 1, 2, 0]); // [C, H, W, N]
    const f = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, O]
    const [sh, sw] = pair(strides);
    const r = tf.conv2d(
      xs,
      f,
      1,
      spatialPadding(top, bottom, left, right),
      'NHWC',
      [sh, sw],
    ); // [C, ≥kh, ≥kw, O]
    const cropped = r.shape[1] === kh && r.shape[2] === kw ? r : tf.slice(r, [0, 0, 0, 0], [c, kh, kw, o]);
    return tf.transpose(cropped, [1, 2, 0, 3]);
  });
}

export const conv2dBackpropFilterWasm = kernelReplacement('Conv2DBackpropFilter', 'wasm', ({ inputs, attrs }) => {
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return tf.tidy(() => {
    let x = asTensor<tf.Rank.R4>(inputs.x!);
    let dy = asTensor<tf.Rank.R4>(inputs.dy!);
    const nchw = a.dataFormat === 'NCHW';
    if (nchw) {
      x = tf.transpose(x, [0, 2, 3, 1]);
      dy = tf.transpose(dy, [0, 2, 3, 1]);
    }
    return conv2dBackpropFilterViaConv2d(x, dy, a.filterShape, a.strides, nchw ? nhwcPad(a.pad) : a.pad, a.dimRoundingMode);
  });
});

addWorkaround('wasm', () => conv2dBackpropFilterWasm.install());
