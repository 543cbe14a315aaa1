// The LSTM cell update shared by the LSTMUnit layer and the LSTM layer, forward and Caffe's backward.
//
// Pre-activations arrive as one [N, 4H] block whose column groups are, in order, the input gate, the forget
// gate, the output gate and the candidate value. The sequence indicator scales the forget gate (so a 0 wipes
// the previous cell):
//   i = σ(a_i)   f = cont · σ(a_f)   o = σ(a_o)   g = tanh(a_g)
//   c = f ⊙ c_prev + i ⊙ g          h = o ⊙ tanh(c)
// Caffe's backward uses the scaled gate in its "sigmoid derivative" too: d a_f = dc · c_prev · f (1 − f) with
// f = cont · σ(a_f). That is the exact derivative only when cont is 0 or 1; cellBackward reproduces it for
// any cont so that fractional indicators give Caffe's numbers. No gradient reaches cont.
import * as tf from '@tensorflow/tfjs-core';

export interface CellState {
  c: tf.Tensor;
  h: tf.Tensor;
  i: tf.Tensor;
  /** The forget gate already multiplied by cont. */
  f: tf.Tensor;
  o: tf.Tensor;
  g: tf.Tensor;
  tanhC: tf.Tensor;
}

/** One step: cPrev [N, H], gates [N, 4H] (i, f, o, g pre-activations), cont [N, 1]. */
export function cellForward(cPrev: tf.Tensor, gates: tf.Tensor, cont: tf.Tensor): CellState {
  const [ai, af, ao, ag] = tf.split(gates, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const i = tf.sigmoid(ai);
  const f = tf.mul(tf.sigmoid(af), cont);
  const o = tf.sigmoid(ao);
  const g = tf.tanh(ag);
  const c = tf.add(tf.mul(f, cPrev), tf.mul(i, g));
  const tanhC = tf.tanh(c);
  const h = tf.mul(o, tanhC);
  return { c, h, i, f, o, g, tanhC };
}

/**
 * Caffe's LSTMUnit backward for one step: given the diffs reaching c and h, the diffs of c_prev and of the
 * gate pre-activations ([N, 4H]).
 */
export function cellBackward(s: CellState, cPrev: tf.Tensor, dC: tf.Tensor | null, dH: tf.Tensor): { dPrev: tf.Tensor; dGates: tf.Tensor } {
  const one = tf.scalar(1);
  // Total diff reaching c: its own top diff plus the path through h = o·tanh(c).
  const viaH = tf.mul(tf.mul(dH, s.o), tf.sub(one, tf.square(s.tanhC)));
  const dCell = dC ? tf.add(dC, viaH) : viaH;
  const dPrev = tf.mul(dCell, s.f);
  const dI = tf.mul(tf.mul(dCell, s.g), tf.mul(s.i, tf.sub(one, s.i)));
  const dF = tf.mul(tf.mul(dCell, cPrev), tf.mul(s.f, tf.sub(one, s.f)));
  const dO = tf.mul(tf.mul(dH, s.tanhC), tf.mul(s.o, tf.sub(one, s.o)));
  const dG = tf.mul(tf.mul(dCell, s.i), tf.sub(one, tf.square(s.g)));
  return { dPrev, dGates: tf.concat([dI, dF, dO, dG], 1) };
}
