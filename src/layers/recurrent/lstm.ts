// LSTM (Caffe's LSTMLayer): for t = 1..T, with h_0, c_0 the initial state,
//   gates_t = W_xc x_t + b_c + W_xc_static x_static + W_hc (cont_t · h_{t-1})     (4H rows: i, f, o, g)
//   c_t, h_t = LSTM cell(c_{t-1}, gates_t, cont_t)                               (see lstm-cell.ts)
// Top: h (T × N × H); with expose_hidden also h_T and c_T (1 × N × H).
// Parameter blobs (Caffe's order): W_xc [4H, D], b_c [4H], then W_xc_static [4H, D_s] when a static input
// is given, then W_hc [4H, H].
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { cellBackward, cellForward, type CellState } from './lstm-cell.js';
import { RecurrentLayer, type ParamSpec, type RecurrentGradients, type RecurrentRun } from './recurrent-base.js';

interface Step {
  /** cont_t · h_{t-1}, the input of W_hc. */
  hConted: tf.Tensor;
  cPrev: tf.Tensor;
  cell: CellState;
}

export class LSTMLayer extends RecurrentLayer {
  protected readonly stateCount = 2;

  protected paramSpecs(): ParamSpec[] {
    const G = 4 * this.H;
    return [
      { shape: [G, this.D], filler: 'weight' },
      { shape: [G], filler: 'bias' },
      ...(this.staticInput ? [{ shape: [G, this.Ds], filler: 'weight' as const }] : []),
      { shape: [G, this.H], filler: 'weight' },
    ];
  }

  private unpack(params: tf.Tensor[]): { wxc: tf.Tensor; bc: tf.Tensor; wxcStatic: tf.Tensor | null; whc: tf.Tensor } {
    return {
      wxc: params[0]!,
      bc: params[1]!,
      wxcStatic: this.staticInput ? params[2]! : null,
      whc: params[this.staticInput ? 3 : 2]!,
    };
  }

  private steps(x: tf.Tensor, cont: tf.Tensor, xStatic: tf.Tensor | null, initial: tf.Tensor[], params: tf.Tensor[]): { steps: Step[]; contSteps: tf.Tensor[] } {
    const [T, N, D] = x.shape as [number, number, number];
    const G = 4 * this.H;
    const { wxc, bc, wxcStatic, whc } = this.unpack(params);
    // Input projections of all timesteps at once.
    const xw = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [T * N, D]), wxc, false, true), bc), [T, N, G]);
    const staticTerm = xStatic && wxcStatic ? tf.matMul(xStatic, wxcStatic, false, true) : null;
    const xSteps = tf.unstack(xw);
    const contSteps = tf.unstack(tf.reshape(cont, [T, N, 1]));
    let h = initial[0]!;
    let c = initial[1]!;
    const steps: Step[] = [];
    for (let t = 0; t < T; t++) {
      const hConted = tf.mul(h, contSteps[t]!);
      let gates = tf.add(tf.matMul(hConted, whc, false, true), xSteps[t]!);
      if (staticTerm) gates = tf.add(gates, staticTerm);
      const cell = cellForward(c, gates, contSteps[t]!);
      steps.push({ hConted, cPrev: c, cell });
      h = cell.h;
      c = cell.c;
    }
    return { steps, contSteps };
  }

  protected run(x: tf.Tensor, cont: tf.Tensor, xStatic: tf.Tensor | null, initial: tf.Tensor[], params: tf.Tensor[]): RecurrentRun {
    const { steps } = this.steps(x, cont, xStatic, initial, params);
    const last = steps[steps.length - 1]!.cell;
    return { out: tf.stack(steps.map((s) => s.cell.h)), finals: [last.h, last.c] };
  }

  protected gradients(
    x: tf.Tensor,
    cont: tf.Tensor,
    xStatic: tf.Tensor | null,
    initial: tf.Tensor[],
    params: tf.Tensor[],
    dOut: tf.Tensor,
    wantX: boolean,
    wantStatic: boolean,
  ): RecurrentGradients {
    const [T, N, D] = x.shape as [number, number, number];
    const G = 4 * this.H;
    const { wxc, wxcStatic, whc } = this.unpack(params);
    const { steps, contSteps } = this.steps(x, cont, xStatic, initial, params);
    const dOutSteps = tf.unstack(tf.reshape(dOut, [T, N, this.H]));
    const dGates: tf.Tensor[] = new Array<tf.Tensor>(T);
    let dWhc: tf.Tensor = tf.zeros(whc.shape);
    // Diffs flowing back into h_t and c_t from step t + 1 (none past the last step: Caffe does not
    // backpropagate through the exposed final state).
    let dHNext: tf.Tensor | null = null;
    let dCNext: tf.Tensor | null = null;
    for (let t = T - 1; t >= 0; t--) {
      const s = steps[t]!;
      const dH: tf.Tensor = dHNext ? tf.add(dOutSteps[t]!, dHNext) : dOutSteps[t]!;
      const { dPrev, dGates: dg } = cellBackward(s.cell, s.cPrev, dCNext, dH);
      dGates[t] = dg;
      dWhc = tf.add(dWhc, tf.matMul(dg, s.hConted, true, false));
      dHNext = tf.mul(tf.matMul(dg, whc), contSteps[t]!);
      dCNext = dPrev;
    }
    const dGAll = tf.reshape(tf.stack(dGates), [T * N, G]);
    const x2 = tf.reshape(x, [T * N, D]);
    const dWxc = tf.matMul(dGAll, x2, true, false);
    const dBc = tf.sum(dGAll, 0);
    const dParams: tf.Tensor[] = [dWxc, dBc];
    let dxStatic: tf.Tensor | null = null;
    if (xStatic && wxcStatic) {
      // The static term enters every step: its diff is the sum over time.
      const dGSum = tf.sum(tf.reshape(dGAll, [T, N, G]), 0);
      dParams.push(tf.matMul(dGSum, xStatic, true, false));
      if (wantStatic) dxStatic = tf.matMul(dGSum, wxcStatic);
    }
    dParams.push(dWhc);
    const dx = wantX ? tf.reshape(tf.matMul(dGAll, wxc), [T, N, D]) : null;
    return { dParams, dx, dxStatic };
  }
}

registerLayer('LSTM', LSTMLayer);
