// AdaDelta (Caffe's form, with a learning rate): gradient history h₀, update history h₁.
// h₀ = m·h₀ + (1−m)·g²; u = g·√((h₁+δ)/(h₀+δ)); h₁ = m·h₁ + (1−m)·u²; update = local_rate · u.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateRule } from './update-rule.js';

export const adadelta: UpdateRule = {
  historySets: 2,
  step(diff, [h0, h1], localRate, { solver }) {
    const m = solver.momentum as number;
    const delta = solver.delta as number;
    const g2 = tf.add(tf.mul(h0!, m), tf.mul(tf.square(diff), 1 - m));
    const u = tf.mul(diff, tf.sqrt(tf.div(tf.add(h1!, delta), tf.add(g2, delta))));
    const u2 = tf.add(tf.mul(h1!, m), tf.mul(tf.square(u), 1 - m));
    return { update: tf.mul(u, localRate), history: [g2, u2] };
  },
};
