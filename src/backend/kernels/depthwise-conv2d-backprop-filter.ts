// DepthwiseConv2dNativeBackpropFilter for wasm, which has none. dW[i,j,c,q] = Σ_{n,y,x} xpad[n, y·sh+i·dh,
// x·sw+j·dw, c] · dy[n,y,x,c·m+q] is a depthwise convolution once the batch is folded into the channels:
// input [1, H, W, N·C], filter dy as [OH, OW, N·C, m], the forward strides as dilations; then every dh-th /
// dw-th tap is kept and the batch summed out.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement, spatialPadding, pair, type Pad } from './replace.js';

export function depthwiseBackpropFilterViaDepthwise(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true, 'channelsLast');
    const [kh, kw, c, m] = filterShape;
    const [n, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    const [sh, sw] = pair(strides);
    const [dh, dw] = pair(dilations);
    const { top, bottom, left, right } = info.padInfo;
    const xs = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]) as tf.Tensor4D;
    const f = tf.reshape(tf.transpose(tf.reshape(dy, [n, oh, ow, c, m]), [1, 2, 0, 3, 4]), [oh, ow, n * c, m]) as tf.Tensor4D;
    const full = tf.depthwiseConv2d(
      xs,
      f,
      1,
      spatialPadding(top, bottom, left, right),
      'NHWC',
      [sh, sw],
    ); // [1, ≥(kh−1)·dh+1, ≥(kw−1)·dw+1, N·C·m]
    const taps = tf.slice(full, [0, 0, 0, 0], [1, (kh - 1) * dh + 1, (kw - 1) * dw + 1, n * c * m]);
    let picked: tf.Tensor = tf.reshape(taps, [(kh - 1) * dh + 1, (kw - 1) * dw + 1, n, c * m]);
    if (dh > 1 || dw > 1) picked = tf.stridedSlice(picked, [0, 0, 0, 0], picked.shape, [dh, dw, 1, 1]);
    return tf.reshape(tf.sum(picked, 2), [kh, kw, c, m]) as tf.Tensor4D;
  });
}

export const depthwiseBackpropFilterWasm = kernelReplacement('DepthwiseConv2dNativeBackpropFilter', 'wasm', ({ inputs, attrs }) => {
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return tf.tidy(() =>
    depthwiseBackpropFilterViaDepthwise(asTensor<tf.Rank.R4>(inputs.x!), asTensor<tf.Rank.R4>(inputs.dy!), a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode),
  );
});

addWorkaround('wasm', () => depthwiseBackpropFilterWasm.install());
