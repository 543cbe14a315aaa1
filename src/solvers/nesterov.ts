// Nesterov momentum: history' = momentum · history + local_rate · g; update = (1 + m) · history' − m · history.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateContext, UpdateRule } from './update-rule.js';

const scalars = (localRate: number, { solver }: UpdateContext) => {
  const m = solver.momentum as number;
  return [localRate, m, 1 + m];
};

export const nesterov: UpdateRule = {
  historySets: 1,
  fused: { rule: 'Nesterov', scalars },
  step(diff, [h], localRate, ctx) {
    const [rate, m, m1] = scalars(localRate, ctx) as [number, number, number];
    const next = tf.add(tf.mul(h!, m), tf.mul(diff, rate));
    const update = tf.sub(tf.mul(next, m1), tf.mul(h!, m));
    return { update, history: [next] };
  },
};
