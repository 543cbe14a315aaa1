// The geometry of a tfjs conv kernel call as native/src/conv.cc reads it. tfjs hands Conv2D and its two
// backprops NHWC (or NCHW) activations and HWIO filters; tfjs' own computeConv2DInfo resolves strides,
// 'same'/'valid'/explicit padding and rounding exactly as the wasm kernels do, so both paths agree.
import * as tf from '@tensorflow/tfjs-core';
import { nhwcPad, type Pad } from '../kernels/replace.js';

export const enum ConvKind {
  Forward = 0,
  BackwardData = 1,
  BackwardFilter = 2,
}

export interface ConvCall {
  kind: ConvKind;
  /** Activations' shape as the kernel sees them (NHWC, or NCHW when `dataFormat` says so). */
  xShape: number[];
  filterShape: number[];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export interface ConvPlan {
  params: Int32Array;
  /** Output shape in the kernel's layout: y for Forward, dx for BackwardData, dW for BackwardFilter. */
  yShape: number[];
}

/** The parameters for the add-on, or undefined for a geometry it should not see (empty tensors). */
export function convPlan(c: ConvCall): ConvPlan | undefined {
  const nchw = c.dataFormat === 'NCHW';
  const [n, d1, d2, d3] = c.xShape as [number, number, number, number];
  const nhwc: [number, number, number, number] = nchw ? [n, d2, d3, d1] : [n, d1, d2, d3];
  const filter = c.filterShape as [number, number, number, number];
  const pad = nchw ? nhwcPad(c.pad) : c.pad;
  const info = tf.backend_util.computeConv2DInfo(nhwc, filter, c.strides, c.dilations ?? 1, pad, c.dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  if ([batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, info.filterHeight, info.filterWidth].some((d) => !(d > 0))) return undefined;
  const p = info.padInfo;
  const params = Int32Array.of(
    c.kind,
    nchw ? 1 : 0,
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
    1, // group
    0, // tfjs layouts (not Caffe's)
    0, // no bias
  );
  const yShape =
    c.kind === ConvKind.Forward
      ? nchw
        ? [batchSize, outChannels, outHeight, outWidth]
        : [batchSize, outHeight, outWidth, outChannels]
      : c.kind === ConvKind.BackwardData
        ? [...c.xShape]
        : [...filter];
  return { params, yShape };
}
