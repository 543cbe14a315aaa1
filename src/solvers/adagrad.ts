// AdaGrad: history += g²; update = local_rate · g / (√history + delta).
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateContext, UpdateRule } from './update-rule.js';

const scalars = (localRate: number, { solver }: UpdateContext) => [localRate, solver.delta as number];

export const adagrad: UpdateRule = {
  historySets: 1,
  fused: { rule: 'AdaGrad', scalars },
  step(diff, [h], localRate, ctx) {
    const [rate, delta] = scalars(localRate, ctx) as [number, number];
    const next = tf.add(h!, tf.square(diff));
    const update = tf.mul(tf.div(diff, tf.add(tf.sqrt(next), delta)), rate);
    return { update, history: [next] };
  },
};
