// Filter: keeps the samples (first-axis rows) whose selector value (the last bottom, shape N × 1 × ...) is
// non-zero, for every other bottom. Top sizes therefore depend on the selector's data. Backward puts the top
// diffs back at the kept rows and zeros elsewhere; the selector gets no gradient.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { scatterAddRows, shapeText } from './util.js';

export class FilterLayer extends Layer {
  override bottomCount(): [number, number] {
    return [2, Infinity];
  }
  override topCount(): [number, number] {
    return [1, Infinity];
  }
  override allowForceBackward(i: number): boolean {
    return i < (this.param.bottom as string[]).length - 1;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const nTops = (this.param.top as string[]).length;
    if (nTops !== bottomShapes.length - 1) {
      throw this.error(`Filter needs one top per filtered bottom: ${bottomShapes.length - 1} bottom(s) before the selector, ${nTops} top(s)`, 'top');
    }
    const selector = bottomShapes[bottomShapes.length - 1]!;
    if (selector.length < 1 || selector.slice(1).some((d) => d !== 1)) {
      throw this.error(`the selector (last bottom) must have shape N × 1 × ... (singletons after the first axis), got ${shapeText(selector)}`, 'bottom');
    }
    const data = bottomShapes.slice(0, -1);
    data.forEach((s, i) => {
      if (s[0] !== selector[0]) throw this.error(`bottom ${i} ${shapeText(s)} and the selector ${shapeText(selector)} differ in their first dimension`, 'bottom');
    });
    // Before any data is seen the tops keep every sample (Caffe's first reshape); forward gives real sizes.
    return data.map((s) => s.slice());
  }

  private kept(selector: tf.Tensor): number[] {
    const out: number[] = [];
    selector.dataSync().forEach((v, i) => {
      if (v !== 0) out.push(i);
    });
    return out;
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const kept = this.kept(bottoms[bottoms.length - 1]!);
    const idx = tf.tensor1d(kept, 'int32');
    return bottoms.slice(0, -1).map((b) => (kept.length ? tf.gather(b, idx, 0) : tf.zeros([0, ...b.shape.slice(1)])));
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]) {
    const last = bottoms.length - 1;
    if (propagateDown[last]) throw this.error('Filter cannot backpropagate to its selector (last bottom)', 'propagate_down');
    const kept = this.kept(bottoms[last]!);
    const bottomDiffs = bottoms.map((b, i) => {
      if (i === last || !propagateDown[i]) return null;
      return tf.tidy(() => tf.reshape(scatterAddRows(topDiffs[i]!, kept, b.shape[0]!), b.shape));
    });
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('Filter', FilterLayer);
