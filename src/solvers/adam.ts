// Adam: m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; update = local_rate · √(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε), t = iter + 1.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateRule } from './update-rule.js';

export const adam: UpdateRule = {
  historySets: 2,
  step(diff, [m, v], localRate, { solver, iter }) {
    const b1 = solver.momentum as number;
    const b2 = solver.momentum2 as number;
    const t = iter + 1;
    const correction = Math.fround(Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t)));
    const m2 = tf.add(tf.mul(m!, b1), tf.mul(diff, 1 - b1));
    const v2 = tf.add(tf.mul(v!, b2), tf.mul(tf.square(diff), 1 - b2));
    const update = tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), solver.delta)), localRate * correction);
    return { update, history: [m2, v2] };
  },
};
