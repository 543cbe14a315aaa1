// Pooling (Caffe's PoolingLayer): MAX, AVE and STOCHASTIC over kernel × stride windows with zero padding,
// global_pooling, CEIL (default) or FLOOR output rounding with Caffe's rule that the last window must start
// inside the image or its left/top padding, and for MAX an optional second top: each window's argmax as the
// flat index h·W + w of its first maximum in scan order (a float, -1 for a window with nothing above
// -FLT_MAX). Gradients follow Caffe: MAX routes each window's diff to that first maximum, AVE spreads diff /
// pool_size where pool_size counts the window within the padded image (bounded by H + pad), STOCHASTIC
// routes to the element sampled in the forward pass.
//
// MAX and AVE run kdnet's Caffe pooling kernels over the NCHW blob (src/backend/kernels/: CaffeMaxPool,
// CaffeAvgPool, CaffeAvgPoolGrad; oneDNN's pooling through the native add-on on wasm, else tfjs ops):
//   MAX   CaffeMaxPool (Caffe's -FLT_MAX floor included); the mask by MaxPoolWithArgmax and the gradient by
//         MaxPoolGrad over the blob viewed as N·C one-channel images (a free reshape), with explicit padding
//         that realizes Caffe's rounding (wasm's tie-broken kernels are replaced in src/backend/kernels/)
//   AVE   CaffeAvgPool / CaffeAvgPoolGrad: window sums divided by Caffe's pool_size
//   STOCHASTIC (GPU Caffe; CPU Caffe has none), in NHWC with window sums by depthwise convolutions (XNNPACK
//         runs them 5–10× faster across contiguous channels than on one-channel images). TEST: Σx² / Σx per
//         window (0 when Σx + FLT_MIN ≤ 0); TRAIN: per window, the first element whose running sum reaches
//         u·Σx for u ~ U(0, 1)
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { caffeEnum, has, type Message } from '../../proto/schema.js';
import { Phase } from '../../net/net-state.js';
import { paramOf, shapeText } from './util.js';
import { toNchw, toNhwc } from './conv-ops.js';
import { explicitPad, windowSums, windowSumsBackward, type CaffePoolAttrs, type PoolWindows } from '../../backend/kernels/pool-windows.js';
import { FLT_MAX } from '../../backend/kernels/max-pool-caffe.js';

const POOL = caffeEnum('PoolingParameter.PoolMethod').values as Record<string, number>;
const ROUND = caffeEnum('PoolingParameter.RoundMode').values as Record<string, number>;
const FLT_MIN = 1.1754943508222875e-38;

export const PoolMethod = { MAX: POOL.MAX!, AVE: POOL.AVE!, STOCHASTIC: POOL.STOCHASTIC! } as const;

/** Pooling settings once the bottom's spatial size is known (output: Caffe's pooled_height_/pooled_width_). */
export interface PoolGeometry extends PoolWindows {
  method: number;
}

/** The settings that do not depend on the bottom (Caffe's LayerSetUp checks). */
export interface PoolSpec {
  method: number;
  global: boolean;
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  ceil: boolean;
}

export function parsePoolSpec(layer: Layer, p: Message, field = 'pooling_param'): PoolSpec {
  const global = p.global_pooling === true;
  const hasK = has(p, 'kernel_size');
  const hasKh = has(p, 'kernel_h');
  const hasKw = has(p, 'kernel_w');
  if (global) {
    if (hasK || hasKh || hasKw) throw layer.error('with global_pooling: true the filter size cannot be specified (drop kernel_size / kernel_h / kernel_w)', field);
  } else {
    if (hasK && (hasKh || hasKw)) throw layer.error('filter size is kernel_size OR kernel_h and kernel_w, not both', field);
    if (!hasK && !(hasKh && hasKw)) {
      throw layer.error(hasKh || hasKw ? 'for non-square filters both kernel_h and kernel_w are required' : 'pooling needs kernel_size (or kernel_h and kernel_w, or global_pooling: true)', field);
    }
  }
  if (has(p, 'pad') ? has(p, 'pad_h') || has(p, 'pad_w') : has(p, 'pad_h') !== has(p, 'pad_w')) {
    throw layer.error('pad is pad OR pad_h and pad_w are required', field);
  }
  if (has(p, 'stride') ? has(p, 'stride_h') || has(p, 'stride_w') : has(p, 'stride_h') !== has(p, 'stride_w')) {
    throw layer.error('stride is stride OR stride_h and stride_w are required', field);
  }
  const kernel: [number, number] = global ? [0, 0] : hasK ? [Number(p.kernel_size), Number(p.kernel_size)] : [Number(p.kernel_h), Number(p.kernel_w)];
  if (!global && !(kernel[0] > 0 && kernel[1] > 0)) throw layer.error(`filter dimensions cannot be zero (kernel ${kernel.join(' x ')})`, field);
  const pad: [number, number] = has(p, 'pad_h') ? [Number(p.pad_h), Number(p.pad_w)] : [Number(p.pad), Number(p.pad)];
  const stride: [number, number] = has(p, 'stride_h') ? [Number(p.stride_h), Number(p.stride_w)] : [Number(p.stride), Number(p.stride)];
  if (!(stride[0] > 0 && stride[1] > 0)) throw layer.error(`stride must be positive (stride ${stride.join(' x ')})`, field);
  if (global && (pad[0] !== 0 || pad[1] !== 0 || stride[0] !== 1 || stride[1] !== 1)) {
    throw layer.error('with global_pooling: true only pad = 0 and stride = 1 are allowed', field);
  }
  const method = Number(p.pool);
  if (![PoolMethod.MAX, PoolMethod.AVE, PoolMethod.STOCHASTIC].includes(method)) throw layer.error(`unknown pooling method ${method}`, field);
  if (pad[0] !== 0 || pad[1] !== 0) {
    if (method === PoolMethod.STOCHASTIC) throw layer.error('padding is implemented only for average and max pooling (STOCHASTIC pooling takes pad 0)', field);
    if (!global && (pad[0] >= kernel[0] || pad[1] >= kernel[1])) {
      throw layer.error(`pad (${pad.join(' x ')}) must be smaller than the kernel (${kernel.join(' x ')})`, field);
    }
  }
  return { method, global, kernel, stride, pad, ceil: Number(p.round_mode) !== ROUND.FLOOR };
}

/** Caffe's pooled output size, or an error when it would be empty. */
export function poolGeometry(layer: Layer, spec: PoolSpec, input: [number, number], field = 'pooling_param'): PoolGeometry {
  const kernel: [number, number] = spec.global ? [input[0], input[1]] : spec.kernel;
  const output = [0, 1].map((i) => {
    const span = (input[i]! + 2 * spec.pad[i]! - kernel[i]!) / spec.stride[i]!;
    let o = (spec.ceil ? Math.ceil(span) : Math.floor(span)) + 1;
    // With padding, the last window must start inside the image (or its top/left padding).
    if ((spec.pad[0] || spec.pad[1]) && (o - 1) * spec.stride[i]! >= input[i]! + spec.pad[i]!) o--;
    return o;
  }) as [number, number];
  if (!(output[0] > 0 && output[1] > 0)) {
    throw layer.error(
      `pooling output would be empty: input ${input.join(' x ')}, kernel ${kernel.join(' x ')}, pad ${spec.pad.join(' x ')}, stride ${spec.stride.join(' x ')} give an output of ${output.join(' x ')}`,
      field,
    );
  }
  return { method: spec.method, kernel, stride: spec.stride, pad: spec.pad, input, output };
}

function poolAttrs(g: PoolGeometry) {
  return { filterSize: g.kernel, strides: g.stride, pad: explicitPad(g) };
}

/** The attributes of kdnet's Caffe pooling kernels (src/backend/kernels/pool-windows.ts). */
function caffeAttrs(g: PoolGeometry): CaffePoolAttrs {
  return { kernel: g.kernel, stride: g.stride, pad: g.pad, output: g.output };
}

/** MAX forward over the NCHW blob, with Caffe's floor of -FLT_MAX (src/backend/kernels/max-pool-caffe.ts). */
export function maxPoolForward(x: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.engine().runKernel('CaffeMaxPool', { x }, caffeAttrs(g) as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The MAX mask (NHWC, float): h·W + w of each window's first maximum, -1 where nothing exceeds -FLT_MAX. */
export function maxPoolMask(x: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  const [values, index] = tf.engine().runKernel('MaxPoolWithArgmax', { x }, { ...poolAttrs(g), includeBatchInIndex: false }) as tf.Tensor4D[];
  const c = x.shape[3];
  const hw = c === 1 ? index! : tf.floorDiv(index!, tf.scalar(c, 'int32'));
  return tf.where(tf.greater(values!, -FLT_MAX), tf.cast(hw, 'float32'), tf.fill(values!.shape, -1)) as tf.Tensor4D;
}

export function maxPoolBackward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, poolAttrs(g)) as tf.Tensor4D;
}

/** AVE forward over the NCHW blob with Caffe's divisor (src/backend/kernels/avg-pool-caffe.ts). */
export function avePoolForward(x: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.engine().runKernel('CaffeAvgPool', { x }, caffeAttrs(g) as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** AVE gradient over NCHW blobs (src/backend/kernels/avg-pool-caffe-grad.ts). */
export function avePoolBackward(xShape: [number, number, number, number], dy: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.engine().runKernel('CaffeAvgPoolGrad', { dy }, { ...caffeAttrs(g), inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** STOCHASTIC at TEST: Σx² / Σx per window (Caffe's GPU kernel starts Σx at FLT_MIN; 0 when it stays ≤ 0). */
function stochasticTest(x: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  const s1 = tf.add(windowSums(x, g), FLT_MIN);
  const s2 = windowSums(tf.square(x), g);
  return tf.where(tf.greater(s1, 0), tf.div(s2, s1), tf.zerosLike(s1)) as tf.Tensor4D;
}

/** Exact derivative of stochasticTest (Caffe defines no TEST-phase backward). */
function stochasticTestBackward(x: tf.Tensor4D, dy: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  const s1 = tf.add(windowSums(x, g), FLT_MIN);
  const s2 = windowSums(tf.square(x), g);
  const live = tf.greater(s1, 0);
  const zero = tf.zerosLike(s1);
  const dS2 = tf.where(live, tf.div(dy, s1), zero) as tf.Tensor4D;
  const dS1 = tf.where(live, tf.neg(tf.div(tf.mul(dy, s2), tf.square(s1))), zero) as tf.Tensor4D;
  return tf.add(windowSumsBackward(dS1, x.shape, g), tf.mul(tf.mul(x, 2), windowSumsBackward(dS2, x.shape, g)));
}

/**
 * STOCHASTIC at TRAIN: per window and channel, the first element (scan order) whose running sum reaches
 * u·Σx, u ~ U(0, 1). Returns the sampled values (NHWC) and, for the backward pass, the flat NCHW index of
 * every sample in the bottom (int32, in NHWC output order).
 */
function stochasticTrain(x: tf.Tensor4D, g: PoolGeometry, seed: number): { y: tf.Tensor4D; index: tf.Tensor1D } {
  const [n, h, w, c] = x.shape;
  const [oh, ow] = g.output;
  const [kh, kw] = g.kernel;
  const kk = kh * kw;
  // Window elements as channels: a depthwise convolution with one-hot filters, channel c·kk + q.
  const eye = new Float32Array(kh * kw * c * kk);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ch = 0; ch < c; ch++) eye[((i * kw + j) * c + ch) * kk + i * kw + j] = 1;
  const patches = tf.reshape(tf.depthwiseConv2d(x, tf.tensor4d(eye, [kh, kw, c, kk]), g.stride, explicitPad(g)), [n, oh, ow, c, kk]);
  const running = tf.cumsum(patches, 4);
  const total = tf.slice(running, [0, 0, 0, 0, kk - 1], [n, oh, ow, c, 1]);
  const threshold = tf.mul(tf.randomUniform([n, oh, ow, c, 1], 0, 1, 'float32', seed), total);
  const q = tf.argMax(tf.cast(tf.greaterEqual(running, threshold), 'float32'), 4) as tf.Tensor4D; // first hit
  // A 1×1 window has one element to sample (tf.oneHot needs a depth of at least 2).
  const y = (kk === 1 ? tf.reshape(patches, [n, oh, ow, c]) : tf.sum(tf.mul(patches, tf.oneHot(q, kk)), 4)) as tf.Tensor4D;
  // Flat NCHW index: ((n·C + c)·H + row)·W + col with row = oh·sh + q / kw, col = ow·sw + q % kw (clamped).
  const int = (v: number) => tf.scalar(v, 'int32');
  const ramp = (size: number, step: number, shape: number[]) => tf.reshape(tf.mul(tf.range(0, size, 1, 'int32'), int(step)), shape);
  const row = tf.clipByValue(tf.add(ramp(oh, g.stride[0], [1, oh, 1, 1]), tf.floorDiv(q, int(kw))), 0, h - 1);
  const col = tf.clipByValue(tf.add(ramp(ow, g.stride[1], [1, 1, ow, 1]), tf.mod(q, int(kw))), 0, w - 1);
  const plane = tf.add(ramp(n, c * h * w, [n, 1, 1, 1]), ramp(c, h * w, [1, 1, 1, c]));
  const index = tf.cast(tf.reshape(tf.add(plane, tf.add(tf.mul(row, int(w)), col)), [-1]), 'int32') as tf.Tensor1D;
  return { y, index };
}

export class PoolingLayer extends Layer {
  private spec!: PoolSpec;
  private geometry!: PoolGeometry;
  /** STOCHASTIC/TRAIN: the flat bottom index each top element sampled in the last forward. */
  private sampled: tf.Tensor1D | undefined;

  private get p(): Message {
    return paramOf(this, 'pooling_param', 'PoolingParameter');
  }

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, Number(this.p.pool) === PoolMethod.MAX ? 2 : 1];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const shape = bottomShapes[0]!;
    this.spec = parsePoolSpec(this, this.p);
    if (shape.length !== 4) throw this.error(`input must have 4 axes (num, channels, height, width); bottom is ${shapeText(shape)}`, 'bottom');
    this.geometry = poolGeometry(this, this.spec, [shape[2]!, shape[3]!]);
    const top = [shape[0]!, shape[1]!, ...this.geometry.output];
    return (this.param.top as string[]).map(() => top.slice());
  }

  private stochasticTrain(): boolean {
    return this.spec.method === PoolMethod.STOCHASTIC && this.ctx.phase === Phase.TRAIN;
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    return this.run(bottoms[0]!).tops;
  }

  /** [N, C, H, W] viewed as N·C one-channel images (free): MAX pooling's layout, no transposes needed. */
  private planes(t: tf.Tensor): tf.Tensor4D {
    const [n, c, h, w] = t.shape as [number, number, number, number];
    return tf.reshape(t, [n * c, h, w, 1]);
  }

  private run(bottom: tf.Tensor): { tops: tf.Tensor[]; sampled?: tf.Tensor1D } {
    const g = this.geometry;
    const nTop = (this.param.top as string[]).length;
    if (this.spec.method === PoolMethod.MAX) {
      const [n, c] = bottom.shape as [number, number];
      const topShape: [number, number, number, number] = [n, c, g.output[0], g.output[1]];
      const tops = [maxPoolForward(bottom as tf.Tensor4D, g)];
      if (nTop > 1) tops.push(tf.reshape(maxPoolMask(this.planes(bottom), g), topShape));
      return { tops };
    }
    if (this.spec.method === PoolMethod.AVE) return { tops: [avePoolForward(bottom as tf.Tensor4D, g)] };
    const x = toNhwc(bottom as tf.Tensor4D);
    if (!this.stochasticTrain()) return { tops: [toNchw(stochasticTest(x, g))] };
    const { y, index } = stochasticTrain(x, g, Math.floor(this.ctx.rng.uniform() * 2147483647));
    return { tops: [toNchw(y)], sampled: index };
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    if (!this.stochasticTrain()) return super.forward(bottoms);
    const { tops, sampled } = tf.tidy(() => {
      const r = this.run(bottoms[0]!);
      return { tops: r.tops, sampled: r.sampled! };
    });
    this.sampled?.dispose();
    this.sampled = sampled;
    return tops;
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const g = this.geometry;
    const dx = tf.tidy(() => {
      if (this.spec.method === PoolMethod.MAX) {
        const dx1 = maxPoolBackward(this.planes(bottoms[0]!), this.planes(tops[0]!), this.planes(topDiffs[0]!), g);
        return tf.reshape(dx1, bottoms[0]!.shape as [number, number, number, number]);
      }
      if (this.spec.method === PoolMethod.AVE) return avePoolBackward(bottoms[0]!.shape as [number, number, number, number], topDiffs[0] as tf.Tensor4D, g);
      const x = toNhwc(bottoms[0] as tf.Tensor4D);
      const dy = toNhwc(topDiffs[0] as tf.Tensor4D);
      if (!this.stochasticTrain()) return toNchw(stochasticTestBackward(x, dy, g));
      if (!this.sampled || this.sampled.size !== dy.size) throw this.error('STOCHASTIC pooling backward needs a TRAIN forward pass first');
      const flat = tf.scatterND(tf.reshape(this.sampled, [-1, 1]), tf.reshape(dy, [-1]), [bottoms[0]!.size]);
      return tf.reshape(flat, bottoms[0]!.shape as [number, number, number, number]);
    });
    return { bottomDiffs: [dx], paramDiffs: [] };
  }

  override dispose(): void {
    this.sampled?.dispose();
    this.sampled = undefined;
    super.dispose();
  }
}

registerLayer('Pooling', PoolingLayer);
