// RMSProp: history = rms_decay · history + (1 − rms_decay) · g²; update = local_rate · g / (√history + delta).
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateContext, UpdateRule } from './update-rule.js';

const scalars = (localRate: number, { solver }: UpdateContext) => {
  const decay = solver.rms_decay as number;
  return [localRate, solver.delta as number, decay, 1 - decay];
};

export const rmsprop: UpdateRule = {
  historySets: 1,
  fused: { rule: 'RMSProp', scalars },
  step(diff, [h], localRate, ctx) {
    const [rate, delta, decay, keep] = scalars(localRate, ctx) as [number, number, number, number];
    const next = tf.add(tf.mul(h!, decay), tf.mul(tf.square(diff), keep));
    const update = tf.mul(tf.div(diff, tf.add(tf.sqrt(next), delta)), rate);
    return { update, history: [next] };
  },
};
