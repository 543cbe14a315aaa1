// SGD with momentum: history = local_rate · g + momentum · history; update = history.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateRule } from './update-rule.js';

export const sgd: UpdateRule = {
  historySets: 1,
  fusedAs: 'SGD',
  step(diff, [h], localRate, { solver }) {
    const next = tf.add(tf.mul(diff, localRate), tf.mul(h!, solver.momentum));
    return { update: next, history: [next] };
  },
};
