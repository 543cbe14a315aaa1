// Convolution arithmetic shared by Convolution, Deconvolution and Im2col, in NHWC with HWIO filters (the
// layout tfjs runs fastest; wasm rejects NCHW convolutions). Caffe's geometry — per-axis kernel, stride, pad,
// dilation, groups — is mapped onto tfjs kernels:
//   forward        tf.conv2d / tf.depthwiseConv2d (one call per group for other grouped convolutions)
//   input grad     Conv2DBackpropInput / DepthwiseConv2dNativeBackpropInput kernels
//   filter grad    Conv2DBackpropFilter / DepthwiseConv2dNativeBackpropFilter kernels
// (wasm's missing or slow ones are replaced in src/backend/kernels/). Those gradient kernels know no dilation
// (cpu's depthwise ones silently ignore it), so a dilated filter is expanded with zeros between its taps for
// them, and only the real taps of the expanded filter gradient are kept.
import * as tf from '@tensorflow/tfjs-core';
import type { NchwConvGeometry } from '../../backend/native/caffe-conv.js';

/** Caffe's convolution geometry (per spatial axis, pads symmetric): the one the native kernels take too. */
export type ConvGeometry = NchwConvGeometry;

type Pad4 = [[0, 0], [number, number], [number, number], [0, 0]];

function explicitPad(g: ConvGeometry): Pad4 {
  return [
    [0, 0],
    [g.pad[0], g.pad[0]],
    [g.pad[1], g.pad[1]],
    [0, 0],
  ];
}

/** Extent of a dilated kernel along each axis: (k − 1)·d + 1. */
export function kernelExtent(g: ConvGeometry): [number, number] {
  return [(g.kernel[0] - 1) * g.dilation[0] + 1, (g.kernel[1] - 1) * g.dilation[1] + 1];
}

/** Caffe's convolution output size (in + 2·pad − extent) / stride + 1 per axis; negative numerators give ≤ 0. */
export function convOutputSize(input: [number, number], g: ConvGeometry): [number, number] {
  const ext = kernelExtent(g);
  return [0, 1].map((i) => {
    const num = input[i]! + 2 * g.pad[i]! - ext[i]!;
    return num < 0 ? 0 : Math.floor(num / g.stride[i]!) + 1;
  }) as [number, number];
}

/** Caffe's deconvolution output size stride·(in − 1) + extent − 2·pad per axis. */
export function deconvOutputSize(input: [number, number], g: ConvGeometry): [number, number] {
  const ext = kernelExtent(g);
  return [0, 1].map((i) => g.stride[i]! * (input[i]! - 1) + ext[i]! - 2 * g.pad[i]!) as [number, number];
}

const dilated = (g: ConvGeometry) => g.dilation[0] > 1 || g.dilation[1] > 1;

/** HWIO filter with (d − 1) zeros between taps: the same convolution at dilation 1. */
function expandFilter(w: tf.Tensor4D, d: [number, number]): tf.Tensor4D {
  const [kh, kw, i, o] = w.shape;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, i, o]), [
    [0, 0],
    [0, d[0] - 1],
    [0, 0],
    [0, d[1] - 1],
    [0, 0],
    [0, 0],
  ]);
  return tf.slice(tf.reshape(spread, [kh * d[0], kw * d[1], i, o]), [0, 0, 0, 0], [(kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, i, o]) as tf.Tensor4D;
}

/** The taps of an expanded-filter gradient that belong to real filter taps. */
function contractFilter(e: tf.Tensor4D, kernel: [number, number], d: [number, number]): tf.Tensor4D {
  const [eh, ew, i, o] = e.shape;
  const padded = tf.pad(e, [
    [0, kernel[0] * d[0] - eh],
    [0, kernel[1] * d[1] - ew],
    [0, 0],
    [0, 0],
  ]);
  const split = tf.reshape(padded, [kernel[0], d[0], kernel[1], d[1], i, o]);
  return tf.reshape(tf.slice(split, [0, 0, 0, 0, 0, 0], [kernel[0], 1, kernel[1], 1, i, o]), [kernel[0], kernel[1], i, o]) as tf.Tensor4D;
}

/** Depthwise: every group has exactly one input channel (Caffe's group == channels). */
function isDepthwise(inChannels: number, g: ConvGeometry): boolean {
  return g.group > 1 && g.group === inChannels;
}

/** Runs `f` once per group on channel slices of `a` (last axis) and `w` (last axis), concatenating results. */
function perGroup(a: tf.Tensor4D, w: tf.Tensor4D, g: number, f: (a: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  const as = tf.split(a, g, 3) as tf.Tensor4D[];
  const ws = tf.split(w, g, 3) as tf.Tensor4D[];
  return tf.concat(
    as.map((ai, j) => f(ai, ws[j]!)),
    3,
  ) as tf.Tensor4D;
}

/**
 * y = conv(x, w) (+ b): x [N, H, W, Ci], w [kh, kw, Ci/g, Co], b [Co] → [N, OH, OW, Co]. Ungrouped, the bias is
 * added inside the convolution kernel (tfjs' FusedConv2D; on wasm XNNPACK adds it as it writes the output).
 */
export function convForward(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry, b?: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const ci = x.shape[3];
    const both = (g.stride[0] > 1 || g.stride[1] > 1) && dilated(g);
    const filter = both ? expandFilter(w, g.dilation) : w;
    const dil: [number, number] = both ? [1, 1] : g.dilation;
    const pad = explicitPad(g);
    if (g.group === 1) return b ? tf.fused.conv2d({ x, filter, strides: g.stride, pad, dataFormat: 'NHWC', dilations: dil, bias: b }) : tf.conv2d(x, filter, g.stride, pad, 'NHWC', dil);
    const y = groupedForward(x, filter, g, ci, pad, dil);
    return b ? tf.add(y, b) : y;
  });
}

/** Grouped forward: depthwise in one kernel, other groups one convolution each. */
function groupedForward(x: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry, ci: number, pad: Pad4, dil: [number, number]): tf.Tensor4D {
  if (isDepthwise(ci, g)) {
    const [kh, kw, , co] = filter.shape;
    return tf.depthwiseConv2d(x, tf.reshape(filter, [kh, kw, ci, co / ci]) as tf.Tensor4D, g.stride, pad, 'NHWC', dil);
  }
  return perGroup(x, filter, g.group, (xi, wi) => tf.conv2d(xi, wi, g.stride, pad, 'NHWC', dil));
}

/** dx of convForward: dy [N, OH, OW, Co], w [kh, kw, Ci/g, Co] → [N, H, W, Ci] for `xShape`. */
export function convBackwardData(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const filter = dilated(g) ? expandFilter(w, g.dilation) : w;
    const pad = explicitPad(g);
    const ci = xShape[3];
    const run = (d: tf.Tensor4D, f: tf.Tensor4D, shape: [number, number, number, number]) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: d, filter: f }, { strides: g.stride, pad, dataFormat: 'NHWC', inputShape: shape }) as tf.Tensor4D;
    if (g.group === 1) return run(dy, filter, xShape);
    if (isDepthwise(ci, g)) {
      const [kh, kw, , co] = filter.shape;
      return tf.engine().runKernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: tf.reshape(filter, [kh, kw, ci, co / ci]) },
        { strides: g.stride, dilations: 1, pad, inputShape: xShape },
      ) as tf.Tensor4D;
    }
    const shape: [number, number, number, number] = [xShape[0], xShape[1], xShape[2], ci / g.group];
    return perGroup(dy, filter, g.group, (di, wi) => run(di, wi, shape));
  });
}

/** dW of convForward: x [N, H, W, Ci], dy [N, OH, OW, Co] → [kh, kw, Ci/g, Co]. */
export function convBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D, wShape: [number, number, number, number], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [ext0, ext1] = kernelExtent(g);
    const shape: [number, number, number, number] = [ext0, ext1, wShape[2], wShape[3]];
    const pad = explicitPad(g);
    const ci = x.shape[3];
    const run = (xi: tf.Tensor4D, di: tf.Tensor4D, s: [number, number, number, number]) =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: xi, dy: di }, { strides: g.stride, pad, dataFormat: 'NHWC', filterShape: s }) as tf.Tensor4D;
    let full: tf.Tensor4D;
    if (g.group === 1) full = run(x, dy, shape);
    else if (isDepthwise(ci, g)) {
      const m = wShape[3] / ci;
      const dw = tf.engine().runKernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { strides: g.stride, dilations: 1, pad, filterShape: [ext0, ext1, ci, m] },
      ) as tf.Tensor4D;
      full = tf.reshape(dw, shape) as tf.Tensor4D;
    } else {
      const xs = tf.split(x, g.group, 3) as tf.Tensor4D[];
      const ds = tf.split(dy, g.group, 3) as tf.Tensor4D[];
      const s: [number, number, number, number] = [ext0, ext1, wShape[2], wShape[3] / g.group];
      full = tf.concat(
        xs.map((xi, j) => run(xi, ds[j]!, s)),
        3,
      ) as tf.Tensor4D;
    }
    return dilated(g) ? contractFilter(full, g.kernel, g.dilation) : full;
  });
}

/** NCHW ↔ NHWC. */
export const toNhwc = (t: tf.Tensor4D): tf.Tensor4D => (t.shape[1] === 1 ? tf.reshape(t, [t.shape[0], t.shape[2], t.shape[3], 1]) : tf.transpose(t, [0, 2, 3, 1]));
export const toNchw = (t: tf.Tensor4D): tf.Tensor4D => (t.shape[3] === 1 ? tf.reshape(t, [t.shape[0], 1, t.shape[1], t.shape[2]]) : tf.transpose(t, [0, 3, 1, 2]));

/** Caffe OIHW weights → HWIO filter, and back. */
export const oihwToHwio = (w: tf.Tensor): tf.Tensor4D => tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
export const hwioToOihw = (w: tf.Tensor): tf.Tensor4D => tf.transpose(w, [3, 2, 0, 1]) as tf.Tensor4D;
