// RNN (Caffe's RNNLayer, tanh units): for t = 1..T, with h_0 the initial state,
//   h_t = tanh(W_xh x_t + b_h + W_xh_static x_static + W_hh (cont_t · h_{t-1}))
//   o_t = tanh(W_ho h_t + b_o)
// Top: o (T × N × H); with expose_hidden also h_T (1 × N × H).
// Parameter blobs (Caffe's order): W_xh [H, D], b_h [H], then W_xh_static [H, D_s] when a static input is
// given, then W_hh [H, H], W_ho [H, H], b_o [H].
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import { RecurrentLayer, type ParamSpec, type RecurrentGradients, type RecurrentRun } from './recurrent-base.js';

interface Unpacked {
  wxh: tf.Tensor;
  bh: tf.Tensor;
  wxhStatic: tf.Tensor | null;
  whh: tf.Tensor;
  who: tf.Tensor;
  bo: tf.Tensor;
}

export class RNNLayer extends RecurrentLayer {
  protected readonly stateCount = 1;

  protected paramSpecs(): ParamSpec[] {
    const H = this.H;
    return [
      { shape: [H, this.D], filler: 'weight' },
      { shape: [H], filler: 'bias' },
      ...(this.staticInput ? [{ shape: [H, this.Ds], filler: 'weight' as const }] : []),
      { shape: [H, H], filler: 'weight' },
      { shape: [H, H], filler: 'weight' },
      { shape: [H], filler: 'bias' },
    ];
  }

  private unpack(params: tf.Tensor[]): Unpacked {
    const k = this.staticInput ? 1 : 0;
    return {
      wxh: params[0]!,
      bh: params[1]!,
      wxhStatic: this.staticInput ? params[2]! : null,
      whh: params[2 + k]!,
      who: params[3 + k]!,
      bo: params[4 + k]!,
    };
  }

  /** Hidden states h_1..h_T, the W_hh inputs cont_t · h_{t-1}, and the per-step indicators [N, 1]. */
  private hidden(x: tf.Tensor, cont: tf.Tensor, xStatic: tf.Tensor | null, initial: tf.Tensor[], p: Unpacked): { hs: tf.Tensor[]; hConted: tf.Tensor[]; contSteps: tf.Tensor[] } {
    const [T, N, D] = x.shape as [number, number, number];
    const H = this.H;
    const xw = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [T * N, D]), p.wxh, false, true), p.bh), [T, N, H]);
    const staticTerm = xStatic && p.wxhStatic ? tf.matMul(xStatic, p.wxhStatic, false, true) : null;
    const xSteps = tf.unstack(xw);
    const contSteps = tf.unstack(tf.reshape(cont, [T, N, 1]));
    let h = initial[0]!;
    const hs: tf.Tensor[] = [];
    const hConted: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const hc = tf.mul(h, contSteps[t]!);
      let pre = tf.add(tf.matMul(hc, p.whh, false, true), xSteps[t]!);
      if (staticTerm) pre = tf.add(pre, staticTerm);
      h = tf.tanh(pre);
      hs.push(h);
      hConted.push(hc);
    }
    return { hs, hConted, contSteps };
  }

  protected run(x: tf.Tensor, cont: tf.Tensor, xStatic: tf.Tensor | null, initial: tf.Tensor[], params: tf.Tensor[]): RecurrentRun {
    const [T, N] = x.shape as [number, number];
    const H = this.H;
    const p = this.unpack(params);
    const { hs } = this.hidden(x, cont, xStatic, initial, p);
    // Output units of all timesteps at once.
    const hAll = tf.reshape(tf.stack(hs), [T * N, H]);
    const out = tf.reshape(tf.tanh(tf.add(tf.matMul(hAll, p.who, false, true), p.bo)), [T, N, H]);
    return { out, finals: [hs[T - 1]!] };
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
    const H = this.H;
    const one = tf.scalar(1);
    const p = this.unpack(params);
    const { hs, hConted, contSteps } = this.hidden(x, cont, xStatic, initial, p);
    const hAll = tf.reshape(tf.stack(hs), [T * N, H]);
    const o = tf.tanh(tf.add(tf.matMul(hAll, p.who, false, true), p.bo));
    // Output units.
    const dPreO = tf.mul(tf.reshape(dOut, [T * N, H]), tf.sub(one, tf.square(o)));
    const dWho = tf.matMul(dPreO, hAll, true, false);
    const dBo = tf.sum(dPreO, 0);
    const dHFromO = tf.unstack(tf.reshape(tf.matMul(dPreO, p.who), [T, N, H]));
    // Through time (nothing flows in past the last step, as in Caffe).
    const dPre: tf.Tensor[] = new Array<tf.Tensor>(T);
    let dWhh: tf.Tensor = tf.zeros(p.whh.shape);
    let dHNext: tf.Tensor | null = null;
    for (let t = T - 1; t >= 0; t--) {
      const dH: tf.Tensor = dHNext ? tf.add(dHFromO[t]!, dHNext) : dHFromO[t]!;
      const d: tf.Tensor = tf.mul(dH, tf.sub(one, tf.square(hs[t]!)));
      dPre[t] = d;
      dWhh = tf.add(dWhh, tf.matMul(d, hConted[t]!, true, false));
      dHNext = tf.mul(tf.matMul(d, p.whh), contSteps[t]!);
    }
    const dPreAll = tf.reshape(tf.stack(dPre), [T * N, H]);
    const dWxh = tf.matMul(dPreAll, tf.reshape(x, [T * N, D]), true, false);
    const dBh = tf.sum(dPreAll, 0);
    const dParams: tf.Tensor[] = [dWxh, dBh];
    let dxStatic: tf.Tensor | null = null;
    if (xStatic && p.wxhStatic) {
      const dSum = tf.sum(tf.reshape(dPreAll, [T, N, H]), 0);
      dParams.push(tf.matMul(dSum, xStatic, true, false));
      if (wantStatic) dxStatic = tf.matMul(dSum, p.wxhStatic);
    }
    dParams.push(dWhh, dWho, dBo);
    const dx = wantX ? tf.reshape(tf.matMul(dPreAll, p.wxh), [T, N, D]) : null;
    return { dParams, dx, dxStatic };
  }
}

registerLayer('RNN', RNNLayer);
