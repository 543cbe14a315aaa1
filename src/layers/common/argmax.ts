// ArgMax: the indices (and with out_max_val the values) of the top_k largest entries, per sample over
// C·H·W or along argmax_param.axis. Order as Caffe's partial sort of (value, index) pairs, descending:
// equal values list the higher index first. No backward.
import * as tf from '@tensorflow/tfjs-core';
import { has } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { canonicalAxis, countOf, paramOf, shapeText } from './util.js';

export class ArgMaxLayer extends Layer {
  private topK = 1;
  private outMaxVal = false;
  private axis: number | undefined;

  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }
  override hasBackward(): boolean {
    return false;
  }
  override allowForceBackward(): boolean {
    return false;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const p = paramOf(this, 'argmax_param', 'ArgMaxParameter');
    const shape = bottomShapes[0]!;
    this.topK = Number(p.top_k);
    this.outMaxVal = p.out_max_val === true;
    if (!(this.topK >= 1)) throw this.error(`argmax_param.top_k must be at least 1 (got ${this.topK})`, 'argmax_param');
    if (has(p, 'axis')) {
      this.axis = canonicalAxis(this, p.axis, shape, 'argmax_param');
      if (this.topK > shape[this.axis]!) {
        throw this.error(`argmax_param.top_k ${this.topK} exceeds the size ${shape[this.axis]} of axis ${this.axis} of bottom ${shapeText(shape)}`, 'argmax_param');
      }
      const top = shape.slice();
      top[this.axis] = this.topK;
      return [top];
    }
    this.axis = undefined;
    if (shape.length < 1) throw this.error('ArgMax needs a bottom with at least one axis', 'bottom');
    if (this.topK > countOf(shape, 1)) {
      throw this.error(`argmax_param.top_k ${this.topK} exceeds the ${countOf(shape, 1)} values per sample of bottom ${shapeText(shape)}`, 'argmax_param');
    }
    return [this.flatTopShape(shape)];
  }

  /** Top shape without an axis: N × 1 × top_k (N × 2 × top_k with out_max_val), padded with 1s to the bottom's rank. */
  private flatTopShape(shape: Shape): Shape {
    const top = new Array<number>(Math.max(3, shape.length)).fill(1);
    top[0] = shape[0]!;
    top[2] = this.topK;
    if (this.outMaxVal) top[1] = 2;
    return top;
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const shape = x.shape;
    const data = x.dataSync();
    const k = this.topK;
    const dim = this.axis === undefined ? countOf(shape, 1) : shape[this.axis]!;
    const stride = this.axis === undefined ? 1 : countOf(shape, this.axis + 1);
    const num = dim ? data.length / dim : 0;
    const topShape = this.axis === undefined ? this.flatTopShape(shape) : shape.map((d, a) => (a === this.axis ? k : d));
    const out = new Float32Array(countOf(topShape));
    const order = Array.from({ length: dim }, (_, j) => j);
    const vals = new Float32Array(dim);
    // Descending by value, then by index (std::greater on pairs).
    const before = (p: number, q: number) => vals[p]! > vals[q]! || (vals[p] === vals[q] && p > q);
    for (let i = 0; i < num; i++) {
      const outer = Math.floor(i / stride);
      const inner = i % stride;
      for (let j = 0; j < dim; j++) vals[j] = data[(outer * dim + j) * stride + inner]!;
      let picked: number[];
      if (k === 1) {
        let best = 0;
        for (let j = 1; j < dim; j++) if (before(j, best)) best = j;
        picked = [best];
      } else {
        for (let j = 0; j < dim; j++) order[j] = j;
        order.sort((p, q) => (before(p, q) ? -1 : before(q, p) ? 1 : 0));
        picked = order.slice(0, k);
      }
      for (let j = 0; j < k; j++) {
        const idx = picked[j]!;
        if (this.axis !== undefined) out[(outer * k + j) * stride + inner] = this.outMaxVal ? vals[idx]! : idx;
        else if (this.outMaxVal) {
          out[2 * i * k + j] = idx;
          out[2 * i * k + k + j] = vals[idx]!;
        } else out[i * k + j] = idx;
      }
    }
    return [tf.tensor(out, topShape, 'float32')];
  }
}

registerLayer('ArgMax', ArgMaxLayer);
