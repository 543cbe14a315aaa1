// RMSProp: history = rms_decay · history + (1 − rms_decay) · g²; update = local_rate · g / (√history + delta).
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateRule } from './update-rule.js';

export const rmsprop: UpdateRule = {
  historySets: 1,
  step(diff, [h], localRate, { solver }) {
    const decay = solver.rms_decay as number;
    const next = tf.add(tf.mul(h!, decay), tf.mul(tf.square(diff), 1 - decay));
    const update = tf.mul(tf.div(diff, tf.add(tf.sqrt(next), solver.delta)), localRate);
    return { update, history: [next] };
  },
};
