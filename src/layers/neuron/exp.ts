// Exp: y = base^(shift + scale * x), base -1 meaning e. Caffe computes exp(inner * x) * outer with
// inner = ln(base) * scale and outer = base^shift; the backward is dy * y * inner.
import * as tf from '@tensorflow/tfjs-core';
import { registerLayer } from '../registry.js';
import type { Layer } from '../layer.js';
import { NeuronLayer, f32, paramMessage } from './neuron-base.js';

/** ln(base) as Caffe's Exp and Log layers check it (base -1 means e). */
export function logOfBase(layer: Layer, base: number, field: string): number {
  if (base === -1) return 1;
  if (!(base > 0)) throw layer.error(`base must be strictly positive, or -1 for e (got ${base})`, field);
  const logBase = f32(Math.log(base));
  if (!Number.isFinite(logBase)) throw layer.error(`log(base) = log(${base}) is not finite`, field);
  return logBase;
}

export class ExpLayer extends NeuronLayer {
  private readonly p = paramMessage(this, 'exp_param', 'ExpParameter');
  private readonly base = f32(this.p.base as number);
  private readonly innerScale = f32(logOfBase(this, this.base, 'exp_param') * f32(this.p.scale as number));
  private readonly outerScale = this.outer();

  private outer(): number {
    const shift = f32(this.p.shift as number);
    if (shift === 0) return 1;
    return f32(this.base !== -1 ? Math.pow(this.base, shift) : Math.exp(shift));
  }

  compute([x]: tf.Tensor[]): tf.Tensor[] {
    let y = tf.exp(this.innerScale === 1 ? x! : tf.mul(x!, this.innerScale));
    if (this.outerScale !== 1) y = tf.mul(y, this.outerScale);
    return [y];
  }

  protected override readsBottomData(): boolean {
    return false;
  }

  protected gradient(_x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    const d = tf.mul(y, dy);
    return this.innerScale !== 1 ? tf.mul(d, this.innerScale) : d;
  }
}

registerLayer('Exp', ExpLayer);
