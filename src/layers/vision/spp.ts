// SPP (Caffe's spatial pyramid pooling): for pyramid levels i = 0 … pyramid_height−1, pool the bottom into
// 2^i × 2^i bins (kernel ⌈H / 2^i⌉, stride = kernel, pad (kernel·2^i − H + 1) / 2 per axis, CEIL rounding),
// flatten every level to [N, C·bins] and concatenate along axis 1. With pyramid_height 1 the top is the single
// pooling output [N, C, 1, 1] itself. Each level is a Pooling layer inside (same checks: a level whose pad
// reaches its kernel — an input too small for that many bins — is an error, as in Caffe).
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { KdnetError } from '../../errors.js';
import { newMessage, type Message } from '../../proto/schema.js';
import { PoolingLayer } from './pooling.js';
import { paramOf, shapeText } from './util.js';

export class SPPLayer extends Layer {
  private levels: PoolingLayer[] = [];
  private levelShapes: Shape[] = [];
  private bottomShape: Shape = [];

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  private levelParam(i: number, h: number, w: number, p: Message): Message {
    const bins = 2 ** i;
    const kh = Math.ceil(h / bins);
    const kw = Math.ceil(w / bins);
    const padH = Math.floor((kh * bins - h + 1) / 2);
    const padW = Math.floor((kw * bins - w + 1) / 2);
    return newMessage('LayerParameter', {
      name: `${this.name}/level${i}`,
      type: 'Pooling',
      bottom: ['x'],
      top: ['y'],
      pooling_param: newMessage('PoolingParameter', {
        pool: Number(p.pool),
        kernel_h: kh,
        kernel_w: kw,
        stride_h: kh,
        stride_w: kw,
        pad_h: padH,
        pad_w: padW,
      }),
    });
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'spp_param', 'SPPParameter');
    const shape = bottomShapes[0]!;
    if (shape.length !== 4) throw this.error(`input must have 4 axes (num, channels, height, width); bottom is ${shapeText(shape)}`, 'bottom');
    const [n, , h, w] = shape as [number, number, number, number];
    if (!(h > 0 && w > 0)) throw this.error(`input dimensions cannot be zero (bottom ${shapeText(shape)})`, 'bottom');
    const height = Number(p.pyramid_height ?? 0);
    if (!(height >= 1)) throw this.error('spp_param.pyramid_height must be at least 1', 'spp_param');
    for (const l of this.levels) l.dispose();
    this.levels = [];
    this.levelShapes = [];
    for (let i = 0; i < height; i++) {
      const lp = this.levelParam(i, h, w, p);
      const level = new PoolingLayer(lp, this.ctx);
      try {
        this.levelShapes.push(level.setup([shape])[0]!);
      } catch (e) {
        if (!(e instanceof KdnetError)) throw e;
        const pp = lp.pooling_param as Message;
        throw this.error(
          `pyramid level ${i} (${2 ** i} x ${2 ** i} bins over ${h} x ${w}: kernel ${pp.kernel_h} x ${pp.kernel_w}, pad ${pp.pad_h} x ${pp.pad_w}): ${e.message}`,
          'spp_param',
        );
      }
      this.levels.push(level);
    }
    this.bottomShape = shape;
    if (height === 1) return [this.levelShapes[0]!.slice()];
    const total = this.levelShapes.reduce((s, t) => s + t[1]! * t[2]! * t[3]!, 0);
    return [[n, total]];
  }

  private flat(t: tf.Tensor): tf.Tensor {
    return tf.reshape(t, [t.shape[0]!, -1]);
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const outs = this.levels.map((l) => l.compute(bottoms)[0]!);
    return [outs.length === 1 ? outs[0]! : tf.concat(outs.map((o) => this.flat(o)), 1)];
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    // Each level's forward (STOCHASTIC keeps its samples for the backward pass).
    const outs = this.levels.map((l) => l.forward(bottoms)[0]!);
    if (outs.length === 1) return outs;
    const top = tf.tidy(() => tf.concat(outs.map((o) => this.flat(o)), 1));
    tf.dispose(outs);
    return [top];
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs: [] };
    const dx = tf.tidy(() => {
      let sum: tf.Tensor | undefined;
      let at = 0;
      this.levels.forEach((level, i) => {
        const s = this.levelShapes[i]!;
        const size = s[1]! * s[2]! * s[3]!;
        const part = (t: tf.Tensor) => (this.levels.length === 1 ? t : tf.reshape(tf.slice(t, [0, at], [s[0]!, size]), s));
        const { bottomDiffs } = level.backward(bottoms, [part(tops[0]!)], [part(topDiffs[0]!)], [true]);
        const d = bottomDiffs[0]!;
        sum = sum ? tf.add(sum, d) : d;
        at += size;
      });
      return sum!;
    });
    return { bottomDiffs: [dx], paramDiffs: [] };
  }

  override dispose(): void {
    for (const l of this.levels) l.dispose();
    this.levels = [];
    super.dispose();
  }
}

registerLayer('SPP', SPPLayer);
