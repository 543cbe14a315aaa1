// kdnet's Convolution layer on oneDNN in Caffe's own layouts: NCHW blobs, OIHW weights (groups included), the
// bias added by the forward and its gradient made with the filter gradient. One native call per direction
// replaces the tfjs transposes (NCHW↔NHWC, OIHW↔HWIO), the bias add and the bias reduction around an NHWC
// kernel: on small nets those cost more than the convolution itself. The three kernels are registered on the
// wasm backend under kdnet's own names; callers get undefined when they are not installed or oneDNN refuses
// the geometry, and take the tfjs path.
import * as tf from '@tensorflow/tfjs-core';
import { kernelReplacement, type KernelImpl } from '../kernels/replace.js';
import { nativeAddon } from './addon.js';
import { ConvKind } from './conv-params.js';
import { disposeOutput, heapBuffer, makeFloatOutput, offsetOf } from './heap.js';
import { addNativeKernel } from './kernel-set.js';

/** Caffe's convolution geometry (per spatial axis; pads symmetric). */
export interface NchwConvGeometry {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  dilation: [number, number];
  group: number;
}

type Shape4 = [number, number, number, number];

/** The add-on's parameters (native/src/conv.cc) for the convolution of an NCHW `x` into `oc` channels. */
function convParams(kind: ConvKind, x: Shape4, oc: number, g: NchwConvGeometry, bias: boolean): Int32Array | undefined {
  const [n, c, h, w] = x;
  const out = [0, 1].map((i) => {
    const ext = (g.kernel[i]! - 1) * g.dilation[i]! + 1;
    const num = [h, w][i]! + 2 * g.pad[i]! - ext;
    return num < 0 ? 0 : Math.floor(num / g.stride[i]!) + 1;
  });
  if (![n, c, h, w, oc, out[0], out[1]].every((d) => d! > 0)) return undefined;
  return Int32Array.of(
    kind, 1, n, h, w, c, out[0]!, out[1]!, oc, g.kernel[0], g.kernel[1], g.stride[0], g.stride[1],
    g.dilation[0], g.dilation[1], g.pad[0], g.pad[1], g.pad[0], g.pad[1], g.group, 1, bias ? 1 : 0,
  );
}

const paramsOf = (attrs: tf.NamedAttrMap) => Int32Array.from(attrs.params as number[]);

/**
 * Runs the add-on for one kernel call into `outputs` (allocated by the caller: the result, then the bias
 * gradient if any); `bias` is the forward's bias input or the bias-gradient output.
 */
function execute(backend: tf.KernelBackend, params: Int32Array, in0: tf.TensorInfo, in1: tf.TensorInfo, outputs: tf.TensorInfo[], bias?: tf.TensorInfo): void {
  const offsets = [in0, in1, outputs[0]!, ...(bias ? [bias] : [])].map((t) => offsetOf(backend, t));
  if (!nativeAddon()!.conv(params, heapBuffer(backend), ...(offsets as [number, number, number, number?]))) {
    for (const o of outputs) disposeOutput(backend, o);
    throw new Error('kdnet native: oneDNN refused a convolution it had accepted');
  }
}

const forwardImpl: KernelImpl = ({ inputs, attrs, backend }) => {
  const p = paramsOf(attrs);
  const y = makeFloatOutput(backend, [p[2]!, p[8]!, p[6]!, p[7]!]);
  execute(backend, p, inputs.x!, inputs.filter!, [y], inputs.bias);
  return y;
};

const backpropInputImpl: KernelImpl = ({ inputs, attrs, backend }) => {
  const p = paramsOf(attrs);
  const dx = makeFloatOutput(backend, [p[2]!, p[5]!, p[3]!, p[4]!]);
  execute(backend, p, inputs.dy!, inputs.filter!, [dx]);
  return dx;
};

const backpropFilterImpl: KernelImpl = ({ inputs, attrs, backend }) => {
  const p = paramsOf(attrs);
  const dW = makeFloatOutput(backend, [p[8]!, p[5]! / p[19]!, p[9]!, p[10]!]);
  const dB = p[21] ? makeFloatOutput(backend, [p[8]!]) : undefined;
  execute(backend, p, inputs.x!, inputs.dy!, dB ? [dW, dB] : [dW], dB);
  return dB ? [dW, dB] : dW;
};

export const nchwConvolutionNative = kernelReplacement('KdnetConvolution', 'wasm', forwardImpl);
export const nchwConvolutionBackpropInputNative = kernelReplacement('KdnetConvolutionBackpropInput', 'wasm', backpropInputImpl);
export const nchwConvolutionBackpropFilterNative = kernelReplacement('KdnetConvolutionBackpropFilter', 'wasm', backpropFilterImpl);
for (const k of [nchwConvolutionNative, nchwConvolutionBackpropInputNative, nchwConvolutionBackpropFilterNative]) addNativeKernel(k);

/** The parameters when the native kernel for `kind` is active and oneDNN takes the geometry. */
function accepted(kind: ConvKind, x: Shape4, oc: number, g: NchwConvGeometry, bias: boolean): Int32Array | undefined {
  const kernel = [nchwConvolutionNative, nchwConvolutionBackpropInputNative, nchwConvolutionBackpropFilterNative][kind]!;
  if (!kernel.installed || tf.getBackend() !== 'wasm') return undefined;
  const params = convParams(kind, x, oc, g, bias);
  return params && nativeAddon()?.convSupported(params) ? params : undefined;
}

const float32 = (...ts: (tf.Tensor | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');

/** y = conv(x, w) + b in NCHW with OIHW weights `w` ([O, C/g, kh, kw]), or undefined (use the tfjs path). */
export function nchwConvForward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor | undefined, g: NchwConvGeometry): tf.Tensor4D | undefined {
  if (!float32(x, w, b)) return undefined;
  const params = accepted(ConvKind.Forward, x.shape, w.shape[0], g, !!b);
  if (!params) return undefined;
  const inputs: tf.NamedTensorMap = b ? { x, filter: w, bias: b } : { x, filter: w };
  return tf.engine().runKernel('KdnetConvolution', inputs, { params: [...params] }) as tf.Tensor4D;
}

/** dx (NCHW, `xShape`) of nchwConvForward, or undefined. */
export function nchwConvBackwardData(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: Shape4, g: NchwConvGeometry): tf.Tensor4D | undefined {
  if (!float32(dy, w)) return undefined;
  const params = accepted(ConvKind.BackwardData, xShape, w.shape[0], g, false);
  if (!params) return undefined;
  return tf.engine().runKernel('KdnetConvolutionBackpropInput', { dy, filter: w }, { params: [...params] }) as tf.Tensor4D;
}

/** dW (OIHW, [oc, C/g, kh, kw]) and, when `withBias`, db ([oc]) of nchwConvForward; undefined: use tfjs. */
export function nchwConvBackwardFilter(x: tf.Tensor4D, dy: tf.Tensor4D, g: NchwConvGeometry, withBias: boolean): { dW: tf.Tensor4D; dB?: tf.Tensor1D } | undefined {
  if (!float32(x, dy)) return undefined;
  const params = accepted(ConvKind.BackwardFilter, x.shape, dy.shape[1], g, withBias);
  if (!params) return undefined;
  const out = tf.engine().runKernel('KdnetConvolutionBackpropFilter', { x, dy }, { params: [...params] }) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? { dW: out[0] as tf.Tensor4D, dB: out[1] as tf.Tensor1D } : { dW: out as tf.Tensor4D };
}
