// What Convolution and Deconvolution share (Caffe's BaseConvolutionLayer): parameter checks, the geometry
// from kernel_size/stride/pad/dilation (repeated, or the _h/_w pairs), groups, weight and bias blobs, and
// bottom[i] → top[i] pairs that all use the same weights. 1-D and 2-D spatial convolutions are supported
// (a 1-D one runs as 2-D with a unit height); N-D ones (3+ spatial axes) are rejected.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { has, type Message } from '../../proto/schema.js';
import { canonicalAxis, countOf, lrMultZero, paramOf, sameShape, shapeText } from './util.js';
import { reshapeTo } from '../tensor-shape.js';
import { type ConvGeometry, convBackwardData, convBackwardFilter, convForward, hwioToOihw, oihwToHwio, toNchw, toNhwc } from './conv-ops.js';

/**
 * Caffe's kernel/stride/pad/dilation parsing for `nsp` spatial axes (1 or 2). Returns 2-D geometry (a 1-D
 * convolution gets a unit kernel, stride 1 and no padding along the extra height axis).
 */
export function parseConvGeometry(layer: Layer, p: Message, nsp: number, field = 'convolution_param'): ConvGeometry {
  const twoD = (what: string, pair: string) => {
    if (nsp !== 2) throw layer.error(`${pair} can only be used for 2-D convolution (this bottom has ${nsp} spatial axis${nsp === 1 ? '' : 'es'}); use ${what}`, field);
  };
  const perAxis = (name: string, values: number[], dflt: number | undefined): number[] => {
    if (values.length === 0 && dflt !== undefined) return Array(nsp).fill(dflt);
    if (values.length !== 1 && values.length !== nsp) {
      throw layer.error(`${name} must be specified once, or once per spatial dimension (${name} specified ${values.length} times; ${nsp} spatial dims)`, field);
    }
    return Array.from({ length: nsp }, (_, i) => Number(values[values.length === 1 ? 0 : i]));
  };
  let kernel: number[];
  if (has(p, 'kernel_h') || has(p, 'kernel_w')) {
    twoD('kernel_size', 'kernel_h & kernel_w');
    if ((p.kernel_size as number[]).length) throw layer.error('either kernel_size or kernel_h/kernel_w should be specified, not both', field);
    kernel = [Number(p.kernel_h), Number(p.kernel_w)];
  } else {
    kernel = perAxis('kernel_size', p.kernel_size as number[], undefined);
  }
  kernel.forEach((k, i) => {
    if (!(k > 0)) throw layer.error(`filter dimensions must be nonzero (kernel ${kernel.join(' x ')}${has(p, 'kernel_h') !== has(p, 'kernel_w') ? `: set both kernel_h and kernel_w` : ''})`, field);
    void i;
  });
  let stride: number[];
  if (has(p, 'stride_h') || has(p, 'stride_w')) {
    twoD('stride', 'stride_h & stride_w');
    if ((p.stride as number[]).length) throw layer.error('either stride or stride_h/stride_w should be specified, not both', field);
    stride = [Number(p.stride_h), Number(p.stride_w)];
  } else {
    stride = perAxis('stride', p.stride as number[], 1);
  }
  if (stride.some((s) => !(s > 0))) {
    throw layer.error(`stride dimensions must be nonzero (stride ${stride.join(' x ')}${has(p, 'stride_h') !== has(p, 'stride_w') ? `: set both stride_h and stride_w` : ''})`, field);
  }
  let pad: number[];
  if (has(p, 'pad_h') || has(p, 'pad_w')) {
    twoD('pad', 'pad_h & pad_w');
    if ((p.pad as number[]).length) throw layer.error('either pad or pad_h/pad_w should be specified, not both', field);
    pad = [Number(p.pad_h), Number(p.pad_w)];
  } else {
    pad = perAxis('pad', p.pad as number[], 0);
  }
  const dilation = perAxis('dilation', (p.dilation as number[] | undefined) ?? [], 1);
  if (dilation.some((d) => !(d > 0))) throw layer.error(`dilation must be at least 1 (got ${dilation.join(' x ')})`, field);
  const group = Number(p.group ?? 1);
  if (!(group > 0)) throw layer.error(`group must be at least 1 (got ${group})`, field);
  if (nsp === 1) return { kernel: [1, kernel[0]!], stride: [1, stride[0]!], pad: [0, pad[0]!], dilation: [1, dilation[0]!], group };
  return {
    kernel: kernel as [number, number],
    stride: stride as [number, number],
    pad: pad as [number, number],
    dilation: dilation as [number, number],
    group,
  };
}

export abstract class BaseConvolutionLayer extends Layer {
  /** Deconvolution swaps the roles of input and output (Caffe's reverse_dimensions()). */
  protected abstract readonly reverse: boolean;
  protected geometry!: ConvGeometry;
  protected axis = 1;
  protected nsp = 2;
  protected channels = 0;
  protected numOutput = 0;
  protected biasTerm = true;
  protected bottomShape: Shape = [];
  protected topShape: Shape = [];
  /** Nominal weight blob shape (Caffe's): [out, in/group, k…] of the convolution being computed. */
  protected weightShape: Shape = [];

  override bottomCount(): [number, number] {
    return [1, Infinity];
  }
  override topCount(): [number, number] {
    return [1, Infinity];
  }

  /** Spatial output size for a spatial input size (2-D form). */
  protected abstract outputSpatial(input: [number, number]): [number, number];

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'convolution_param', 'ConvolutionParameter');
    const nTop = (this.param.top as string[]).length;
    if (nTop !== bottomShapes.length) {
      throw this.error(`${this.type} takes the same number of bottom and top blobs (bottom[i] → top[i] with shared weights); got ${bottomShapes.length} bottom(s) and ${nTop} top(s)`, 'top');
    }
    const shape = bottomShapes[0]!;
    bottomShapes.forEach((s, i) => {
      if (i > 0 && !sameShape(s, shape)) throw this.error(`all bottoms must have the same shape: bottom[0] is ${shapeText(shape)}, bottom[${i}] is ${shapeText(s)}`, 'bottom');
    });
    const axis = canonicalAxis(this, Number(p.axis), shape, 'convolution_param');
    const nsp = shape.length - axis - 1;
    if (nsp < 1) throw this.error(`${this.type} needs at least one spatial axis after the channel axis ${axis}; bottom is ${shapeText(shape)}`, 'bottom');
    if (nsp > 2) {
      throw this.error(`${nsp}-D convolution (bottom ${shapeText(shape)}, channel axis ${axis}) is not supported by kdnet: only 1-D and 2-D spatial convolution`, 'bottom');
    }
    const first = this.blobs.length === 0 && this.weightShape.length === 0;
    if (!first && nsp !== this.nsp) throw this.error(`bottom num_axes may not change: ${shapeText(this.bottomShape)} before, ${shapeText(shape)} now`, 'bottom');
    const geometry = parseConvGeometry(this, p, nsp);
    const numOutput = Number(p.num_output ?? 0);
    if (!(numOutput > 0)) throw this.error('convolution_param.num_output must be set to a positive number of outputs', 'convolution_param');
    const channels = shape[axis]!;
    if (!first && channels !== this.channels) {
      throw this.error(`input size incompatible with convolution kernel: bottom has ${channels} channels, the weights were made for ${this.channels}`, 'bottom');
    }
    if (channels % geometry.group !== 0) throw this.error(`the number of input channels (${channels}) must be a multiple of group (${geometry.group})`, 'convolution_param');
    if (numOutput % geometry.group !== 0) throw this.error(`number of output (${numOutput}) should be multiples of group (${geometry.group})`, 'convolution_param');
    this.geometry = geometry;
    this.axis = axis;
    this.nsp = nsp;
    this.channels = channels;
    this.numOutput = numOutput;
    this.biasTerm = p.bias_term !== false;
    const kernel = nsp === 1 ? [geometry.kernel[1]] : geometry.kernel;
    const [convOut, convIn] = this.reverse ? [channels, numOutput] : [numOutput, channels];
    this.weightShape = [convOut, convIn / geometry.group, ...kernel];
    if (this.blobs.length === 0) {
      this.blobs.push(this.createParam(p.weight_filler ?? undefined, this.weightShape, 'convolution_param.weight_filler'));
      if (this.biasTerm) this.blobs.push(this.createParam(p.bias_filler ?? undefined, [numOutput], 'convolution_param.bias_filler'));
    }
    const spatialIn: [number, number] = nsp === 1 ? [1, shape[axis + 1]!] : [shape[axis + 1]!, shape[axis + 2]!];
    const out = this.outputSpatial(spatialIn);
    if (!(out[0] > 0 && out[1] > 0)) {
      const ext = [0, 1].map((i) => (geometry.kernel[i]! - 1) * geometry.dilation[i]! + 1);
      const top = [...shape.slice(0, axis), numOutput, ...out.slice(2 - nsp)];
      throw this.error(
        `output would be empty: spatial input ${spatialIn.slice(2 - nsp).join(' x ')} with kernel extent ${ext.slice(2 - nsp).join(' x ')}, ` +
          `pad ${geometry.pad.slice(2 - nsp).join(' x ')}, stride ${geometry.stride.slice(2 - nsp).join(' x ')} gives top ${shapeText(top)} from bottom ${shapeText(shape)}`,
        'convolution_param',
      );
    }
    this.bottomShape = shape;
    this.topShape = [...shape.slice(0, axis), numOutput, ...(nsp === 1 ? [out[1]] : out)];
    return bottomShapes.map(() => this.topShape.slice());
  }

  /** Bottom/top blob as NCHW [batch, C, H, W] (leading axes before the channel axis folded into batch). */
  protected nchw(t: tf.Tensor): tf.Tensor4D {
    const lead = countOf(t.shape, 0, this.axis);
    const c = t.shape[this.axis]!;
    const [h, w] = this.nsp === 1 ? [1, t.shape[this.axis + 1]!] : [t.shape[this.axis + 1]!, t.shape[this.axis + 2]!];
    return reshapeTo(t, [lead, c, h, w]);
  }

  /** The weights as a 4-D OIHW blob of the convolution being computed (1-D kernels get a unit height). */
  protected oihw(w: tf.Tensor): tf.Tensor4D {
    const [o, i] = this.weightShape as [number, number];
    return reshapeTo(w, [o, i, this.geometry.kernel[0], this.geometry.kernel[1]]);
  }

  /** The three directions of the computed map, in NHWC: forward (bias included), its input gradient, its filter gradient. */
  protected abstract apply(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined): tf.Tensor4D;
  protected abstract applyBackwardData(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number]): tf.Tensor4D;
  protected abstract applyBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D;

  /**
   * The same three in Caffe's layouts (NCHW blobs, OIHW weights, bias included) on a native kernel, when the
   * backend has one for this geometry; undefined means "use the NHWC path". The filter gradient gives the
   * bias gradient too when `withBias`.
   */
  protected applyNchw(_x: tf.Tensor4D, _w: tf.Tensor4D, _b: tf.Tensor1D | undefined): tf.Tensor4D | undefined {
    return undefined;
  }
  protected applyNchwBackwardData(_dy: tf.Tensor4D, _w: tf.Tensor4D, _xShape: [number, number, number, number]): tf.Tensor4D | undefined {
    return undefined;
  }
  protected applyNchwBackwardFilter(_x: tf.Tensor4D, _dy: tf.Tensor4D, _withBias: boolean): { dW: tf.Tensor4D; dB?: tf.Tensor1D } | undefined {
    return undefined;
  }

  private bias(params: tf.Tensor[]): tf.Tensor1D | undefined {
    return this.biasTerm && params[1] ? reshapeTo(params[1], [this.numOutput]) : undefined;
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    const w = this.oihw(params[0]!);
    const bias = this.bias(params);
    let filter: tf.Tensor4D | undefined;
    return bottoms.map((b) => {
      const x = this.nchw(b);
      const y = this.applyNchw(x, w, bias) ?? toNchw(this.apply(toNhwc(x), (filter ??= oihwToHwio(w)), bias));
      return reshapeTo(y, [...b.shape.slice(0, this.axis), ...this.topShape.slice(this.axis)]);
    });
  }

  // Explicit backward (Caffe's): weight and bias diffs summed over every bottom/top pair, bottom diffs where
  // asked. Parameters with lr_mult 0 get no diff (Caffe's param_propagate_down).
  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const wantW = !lrMultZero(this, 0) && !this.frozenBlobs.has(0);
    const wantB = this.biasTerm && !lrMultZero(this, 1) && !this.frozenBlobs.has(1);
    return tf.tidy(() => {
      const w = this.oihw(this.blobs[0]!);
      let filter: tf.Tensor4D | undefined;
      let dW: tf.Tensor | null = null;
      let dB: tf.Tensor | null = null;
      const sum = (acc: tf.Tensor | null, g: tf.Tensor) => (acc ? tf.add(acc, g) : g);
      const bottomDiffs = bottoms.map((b, i) => {
        const dy = this.nchw(topDiffs[i]!);
        const x = this.nchw(b);
        // The NHWC diff, made once for the filter and the input gradient of the tfjs path.
        let dyNhwc: tf.Tensor4D | undefined;
        const nhwcDy = () => (dyNhwc ??= toNhwc(dy));
        const native = wantW ? this.applyNchwBackwardFilter(x, dy, wantB) : undefined;
        if (native) dW = sum(dW, native.dW);
        else if (wantW) dW = sum(dW, hwioToOihw(this.applyBackwardFilter(toNhwc(x), nhwcDy())));
        if (native?.dB) dB = sum(dB, native.dB);
        else if (wantB) {
          // Σ over batch and space, on the NCHW diff (two innermost-axis reductions: no transpose).
          dB = sum(dB, tf.sum(tf.sum(tf.reshape(dy, [dy.shape[0], this.numOutput, -1]), 2), 0));
        }
        if (!propagateDown[i]) return null;
        const dx = this.applyNchwBackwardData(dy, w, x.shape) ?? toNchw(this.applyBackwardData(nhwcDy(), (filter ??= oihwToHwio(w)), [x.shape[0], x.shape[2], x.shape[3], x.shape[1]]));
        return reshapeTo(dx, b.shape);
      });
      const paramDiffs: (tf.Tensor | null)[] = [dW ? reshapeTo(dW, this.blobs[0]!.shape) : null];
      if (this.biasTerm) paramDiffs.push(dB ? reshapeTo(dB, this.blobs[1]!.shape) : null);
      return { bottomDiffs, paramDiffs } as unknown as tf.TensorContainerObject;
    }) as unknown as BackwardResult;
  }
}

export { convBackwardData, convBackwardFilter, convForward };
