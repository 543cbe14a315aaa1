// Nesterov momentum: history' = momentum · history + local_rate · g; update = (1 + m) · history' − m · history.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateRule } from './update-rule.js';

export const nesterov: UpdateRule = {
  historySets: 1,
  fusedAs: 'Nesterov',
  step(diff, [h], localRate, { solver }) {
    const m = solver.momentum as number;
    const next = tf.add(tf.mul(h!, m), tf.mul(diff, localRate));
    const update = tf.sub(tf.mul(next, 1 + m), tf.mul(h!, m));
    return { update, history: [next] };
  },
};
