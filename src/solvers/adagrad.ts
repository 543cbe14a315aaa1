// AdaGrad: history += g²; update = local_rate · g / (√history + delta).
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateRule } from './update-rule.js';

export const adagrad: UpdateRule = {
  historySets: 1,
  step(diff, [h], localRate, { solver }) {
    const next = tf.add(h!, tf.square(diff));
    const update = tf.mul(tf.div(diff, tf.add(tf.sqrt(next), solver.delta)), localRate);
    return { update, history: [next] };
  },
};
