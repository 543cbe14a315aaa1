// DepthwiseConv2dNativeBackpropInput for wasm, which has none (grouped convolutions with one input channel per
// group — depthwise — could not backpropagate). With filter [kh, kw, C, m] and dy [N, OH, OW, C·m], the input
// gradient is a depthwise convolution of the stride-spread dy with the 180°-rotated filter (one output per
// dy channel), summed over the m channels that came from each input channel.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { flipTaps } from './flip-taps.js';
import { asTensor, kernelReplacement, pair, windowed, zeroInsert, type Pad } from './replace.js';

export function depthwiseBackpropInputViaDepthwise(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, true, 'channelsLast');
    const [kh, kw, c, m] = filter.shape;
    const [n, h, w] = inputShape;
    const [dh, dw] = pair(dilations);
    const u = zeroInsert(dy, pair(strides));
    const before: [number, number] = [(kh - 1) * dh - info.padInfo.top, (kw - 1) * dw - info.padInfo.left];
    const after: [number, number] = [h + (kh - 1) * dh - before[0] - u.shape[1], w + (kw - 1) * dw - before[1] - u.shape[2]];
    const win = windowed(u, before, after);
    const flipped = tf.reshape(flipTaps(filter), [kh, kw, c * m, 1]) as tf.Tensor4D;
    const perOutput = tf.depthwiseConv2d(win.x, flipped, 1, win.pad, 'NHWC', [dh, dw]); // [N, H, W, C·m]
    return m === 1 ? perOutput : (tf.sum(tf.reshape(perOutput, [n, h, w, c, m]), 4) as tf.Tensor4D);
  });
}

export const depthwiseBackpropInputWasm = kernelReplacement('DepthwiseConv2dNativeBackpropInput', 'wasm', ({ inputs, attrs }) => {
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return tf.tidy(() =>
    depthwiseBackpropInputViaDepthwise(asTensor<tf.Rank.R4>(inputs.dy!), asTensor<tf.Rank.R4>(inputs.filter!), a.inputShape, a.strides, a.dilations, a.pad, a.dimRoundingMode),
  );
});

addWorkaround('wasm', () => depthwiseBackpropInputWasm.install());
