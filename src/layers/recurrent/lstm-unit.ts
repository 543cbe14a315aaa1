// LSTMUnit (Caffe's LSTMUnitLayer): one LSTM cell step without parameters.
// Bottoms: c_prev (1 × N × H), x (1 × N × 4H: i, f, o, g pre-activations), cont (1 × N).
// Tops: c (1 × N × H), h (1 × N × H). See lstm-cell.ts for the formulas and Caffe's gradient.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { cellBackward, cellForward } from './lstm-cell.js';

export class LSTMUnitLayer extends Layer {
  override bottomCount(): [number, number] {
    return [3, 3];
  }

  override topCount(): [number, number] {
    return [2, 2];
  }

  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex !== 2;
  }

  setup(bottomShapes: Shape[]): Shape[] {
    if (bottomShapes.length !== 3) throw this.error(`LSTMUnit takes 3 bottoms (c_prev, x, cont); got ${bottomShapes.length}`, 'bottom');
    const names = ['c_prev', 'x', 'cont'];
    const N = bottomShapes[0]![1];
    bottomShapes.forEach((s, i) => {
      const axes = i === 2 ? 2 : 3;
      const expected = i === 2 ? '[1, N]' : i === 0 ? '[1, N, H]' : '[1, N, 4H]';
      if (s.length !== axes || s[0] !== 1 || s[1] !== N) {
        throw this.error(`bottom[${i}] (${names[i]}) must have shape ${expected} (one timestep, N = ${N ?? '?'} streams as in c_prev); got [${s.join(', ')}]`, 'bottom');
      }
    });
    const H = bottomShapes[0]![2]!;
    const G = bottomShapes[1]![2]!;
    if (G !== 4 * H) throw this.error(`bottom[1] (x) must have 4H = ${4 * H} gate pre-activations per stream (H = ${H} from c_prev); got ${G}`, 'bottom');
    const top = [...bottomShapes[0]!];
    return [top, [...top]];
  }

  /** The three bottoms as [N, H], [N, 4H], [N, 1]. */
  private flat(bottoms: tf.Tensor[]): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const [, N, H] = bottoms[0]!.shape as [number, number, number];
    return [tf.reshape(bottoms[0]!, [N, H]), tf.reshape(bottoms[1]!, [N, 4 * H]), tf.reshape(bottoms[2]!, [N, 1])];
  }

  compute(bottoms: tf.Tensor[]): tf.Tensor[] {
    const shape = bottoms[0]!.shape;
    const { c, h } = cellForward(...this.flat(bottoms));
    return [tf.reshape(c, shape), tf.reshape(h, shape)];
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (propagateDown[2]) {
      throw this.error(`cannot backpropagate to the sequence continuation indicators (bottom[2] '${(this.param.bottom as string[])[2] ?? 'cont'}')`, 'bottom');
    }
    const [dPrev, dX] = tf.tidy(() => {
      const [cPrev, gates, cont] = this.flat(bottoms);
      const [N, H] = cPrev.shape as [number, number];
      const cell = cellForward(cPrev, gates, cont);
      const { dPrev, dGates } = cellBackward(cell, cPrev, tf.reshape(topDiffs[0]!, [N, H]), tf.reshape(topDiffs[1]!, [N, H]));
      return [tf.reshape(dPrev, bottoms[0]!.shape), tf.reshape(dGates, bottoms[1]!.shape)];
    });
    const bottomDiffs: (tf.Tensor | null)[] = [null, null, null];
    if (propagateDown[0]) bottomDiffs[0] = dPrev!;
    else dPrev!.dispose();
    if (propagateDown[1]) bottomDiffs[1] = dX!;
    else dX!.dispose();
    return { bottomDiffs, paramDiffs: [] };
  }
}

registerLayer('LSTMUnit', LSTMUnitLayer);
