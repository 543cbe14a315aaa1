// Caffe's pooling windows over an NCHW blob, as kdnet's Caffe pooling kernels (CaffeMaxPool, CaffeAvgPool,
// CaffeAvgPoolGrad) take them: kernel, stride, pad and the output size the Pooling layer computed with Caffe's
// rounding rules (CEIL by default, the last window starting inside the image or its top/left padding). Also
// the window sums the composite (non-native) AVE and STOCHASTIC paths are built from.
import * as tf from '@tensorflow/tfjs-core';

/** The attributes of kdnet's Caffe pooling kernels (spatial pairs: [height, width]). */
export interface CaffePoolAttrs {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  /** Caffe's pooled size (pooled_height_, pooled_width_). */
  output: [number, number];
}

/** The windows over an input of spatial size `input`. */
export interface PoolWindows extends CaffePoolAttrs {
  input: [number, number];
}

export type NhwcPadding = [[0, 0], [number, number], [number, number], [0, 0]];

/** Explicit NHWC padding that makes every window fit: pad before, and after as far as the last window reaches. */
export function explicitPad(g: PoolWindows): NhwcPadding {
  const after = (i: 0 | 1) => Math.max(0, (g.output[i] - 1) * g.stride[i] + g.kernel[i] - g.input[i] - g.pad[i]);
  return [
    [0, 0],
    [g.pad[0], after(0)],
    [g.pad[1], after(1)],
    [0, 0],
  ];
}

/** Caffe's AVE divisor per window: the window clipped to the padded image [−pad, size + pad). */
export function aveDivisors(g: PoolWindows): Float32Array {
  const d = new Float32Array(g.output[0] * g.output[1]);
  for (let oy = 0; oy < g.output[0]; oy++) {
    const hs = oy * g.stride[0] - g.pad[0];
    const he = Math.min(hs + g.kernel[0], g.input[0] + g.pad[0]);
    for (let ox = 0; ox < g.output[1]; ox++) {
      const ws = ox * g.stride[1] - g.pad[1];
      const we = Math.min(ws + g.kernel[1], g.input[1] + g.pad[1]);
      d[oy * g.output[1] + ox] = (he - hs) * (we - ws);
    }
  }
  return d;
}

/**
 * The first output row and column whose windows start past the image (no element inside it: possible with
 * CEIL rounding when the kernel is smaller than the stride, or a window wholly in the bottom/right padding);
 * the output size when there is none.
 */
export function firstEmptyWindow(g: PoolWindows): [number, number] {
  const first = (i: 0 | 1) => Math.min(g.output[i], Math.max(1, Math.ceil((g.input[i] + g.pad[i]) / g.stride[i])));
  return [first(0), first(1)];
}

/**
 * The windows that hold an image element, or undefined when all do. Empty windows need the padding after the
 * image to reach as wide as the kernel, and there XNNPACK's max pooling (and oneDNN's) read misplaced values
 * (its depthwise convolutions, behind the window sums, were checked not to): max pooling pools only the live
 * windows and fills the rest itself.
 */
export function liveWindows(g: PoolWindows): PoolWindows | undefined {
  const live = firstEmptyWindow(g);
  return live[0] < g.output[0] || live[1] < g.output[1] ? { ...g, output: live } : undefined;
}

/** `y` ([N, OH', OW', C] over the live windows) extended to the full output with `value`. */
export function fillEmptyWindows(y: tf.Tensor4D, g: PoolWindows, value: number): tf.Tensor4D {
  const [, oh, ow] = y.shape;
  return tf.pad(y, [[0, 0], [0, g.output[0] - oh], [0, g.output[1] - ow], [0, 0]], value);
}

/** Window sums (zero padding) of NHWC x: a depthwise convolution with a ones filter. */
export function windowSums(x: tf.Tensor4D, g: PoolWindows): tf.Tensor4D {
  const c = x.shape[3];
  return tf.depthwiseConv2d(x, tf.ones([g.kernel[0], g.kernel[1], c, 1]) as tf.Tensor4D, g.stride, explicitPad(g));
}

/** Transpose of windowSums: every input element receives the sum of the diffs of the windows containing it. */
export function windowSumsBackward(dy: tf.Tensor4D, xShape: [number, number, number, number], g: PoolWindows): tf.Tensor4D {
  const c = xShape[3];
  return tf.engine().runKernel(
    'DepthwiseConv2dNativeBackpropInput',
    { dy, filter: tf.ones([g.kernel[0], g.kernel[1], c, 1]) },
    { strides: g.stride, dilations: 1, pad: explicitPad(g), inputShape: xShape },
  ) as tf.Tensor4D;
}
