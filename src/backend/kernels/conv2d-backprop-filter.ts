// Conv2DBackpropFilter for wasm, which has none (tf.grad of a conv2d and every explicit filter gradient throw
// "kernel not found"). The filter gradient dW[i,j,c,o] = Σ_{n,y,x} xpad[n, y·sh+i, x·sw+j, c] · dy[n,y,x,o] is
// computed by kdnet's wasm SIMD module where it applies (filter-grad.ts: no dilation, wasm SIMD present).
// Otherwise it is itself a convolution: batch and channels of x swap places ([C, H, W, N]), dy becomes the
// filter ([OH, OW, N, O]) and the forward strides become dilations, on wasm's Conv2D (XNNPACK).
// A filter with few rows (kh·kw·C, a first layer on 1–3 image channels) makes that a convolution with a tiny
// output and a huge kernel, which XNNPACK runs at 6–9 GFLOP/s; there the rows each tap sees are gathered
// instead (im2col, im2col-rows.ts) and multiplied with dy in one matmul.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';
import { asTensor, kernelReplacement, spatialPadding, nhwcPad, pair, type Pad } from './replace.js';
import { im2colRows } from './im2col-rows.js';
import { filterGradModuleApplies, filterGradOnHeap } from './filter-grad.js';

/** Filters with at most this many rows (kh·kw·C) take the im2col path. */
export const IM2COL_MAX_ROWS = 128;

/** Which way the filter gradient of `filterShape` (HWIO) is computed when the SIMD module does not. */
export function filterGradientPath(filterShape: readonly number[], dilation: [number, number]): 'im2col' | 'convolution' {
  const [kh, kw, c] = filterShape as [number, number, number];
  return kh * kw * c <= IM2COL_MAX_ROWS && dilation[0] === 1 && dilation[1] === 1 ? 'im2col' : 'convolution';
}

/**
 * dW as one matmul: the rows of x each tap sees (im2colRows: x as [C, N, H, W], one row a tap and channel,
 * [kh·kw·C, N·OH·OW]) times dy as [N·OH·OW, O]; the product is the HWIO filter as it is.
 */
function conv2dBackpropFilterViaIm2col(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const { outHeight: oh, outWidth: ow } = info;
  const channelsFirst = (c === 1 ? tf.reshape(x, [1, n, h, w]) : tf.transpose(x, [3, 0, 1, 2])) as tf.Tensor4D;
  const rows = im2colRows(channelsFirst, {
    kernel: [filterShape[0], filterShape[1]],
    stride: [info.strideHeight, info.strideWidth],
    pad: [info.padInfo.top, info.padInfo.left],
    output: [oh, ow],
  });
  return tf.reshape(tf.matMul(rows, tf.reshape(dy, [n * oh * ow, filterShape[3]])), filterShape);
}

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
    const byModule = filterGradModuleApplies([info.dilationHeight, info.dilationWidth]) ? filterGradOnHeap(x, dy, filterShape, info) : undefined;
    if (byModule) return byModule;
    if (filterGradientPath(filterShape, [info.dilationHeight, info.dilationWidth]) === 'im2col') return conv2dBackpropFilterViaIm2col(x, dy, filterShape, info);
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
