// Conv2DBackpropInput for wasm: the shipped kernel is a scalar loop, 4–10× slower than wasm's Conv2D
// (XNNPACK) on LeNet/CIFAR shapes. The input gradient (and Deconvolution's forward) is a convolution of dy,
// spread out by the strides (zeros between rows/columns), with the filter rotated by 180° and its in/out
// channels swapped: dx[i] = Σ_t u[i + top − t]·w[t] = Σ_t' upad[i + t']·w[kh−1−t'].
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { flipTaps } from './flip-taps.js';
import { asTensor, kernelReplacement, nhwcPad, pair, windowed, zeroInsert, type Pad } from './replace.js';

export function conv2dBackpropInputViaConv2d(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const [kh, kw] = filter.shape;
    const [, h, w] = inputShape;
    const s = pair(strides);
    const u = zeroInsert(dy, s);
    const before: [number, number] = [kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left];
    const after: [number, number] = [h + kh - 1 - before[0] - u.shape[1], w + kw - 1 - before[1] - u.shape[2]];
    const win = windowed(u, before, after);
    const flipped = tf.transpose(flipTaps(filter), [0, 1, 3, 2]);
    return tf.conv2d(win.x, flipped as tf.Tensor4D, 1, win.pad);
  });
}

export const conv2dBackpropInputWasm = kernelReplacement('Conv2DBackpropInput', 'wasm', ({ inputs, attrs }) => {
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  return tf.tidy(() => {
    let dy = asTensor<tf.Rank.R4>(inputs.dy!);
    const filter = asTensor<tf.Rank.R4>(inputs.filter!);
    const nchw = a.dataFormat === 'NCHW';
    let shape = a.inputShape;
    if (nchw) {
      dy = tf.transpose(dy, [0, 2, 3, 1]);
      shape = [shape[0], shape[2], shape[3], shape[1]];
    }
    const dx = conv2dBackpropInputViaConv2d(dy, filter, shape, a.strides, nchw ? nhwcPad(a.pad) : a.pad, a.dimRoundingMode);
    return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  });
});

addWorkaround('wasm', () => conv2dBackpropInputWasm.install());
