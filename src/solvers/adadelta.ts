// AdaDelta (Caffe's form, with a learning rate): gradient history h₀, update history h₁.
// h₀ = m·h₀ + (1−m)·g²; u = g·√((h₁+δ)/(h₀+δ)); h₁ = m·h₁ + (1−m)·u²; update = local_rate · u.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateContext, UpdateRule } from './update-rule.js';

const scalars = (localRate: number, { solver }: UpdateContext) => {
  const m = solver.momentum as number;
  return [localRate, solver.delta as number, m, 1 - m];
};

export const adadelta: UpdateRule = {
  historySets: 2,
  fused: { rule: 'AdaDelta', scalars },
  step(diff, [h0, h1], localRate, ctx) {
    const [rate, delta, m, keep] = scalars(localRate, ctx) as [number, number, number, number];
    const g2 = tf.add(tf.mul(h0!, m), tf.mul(tf.square(diff), keep));
    const u = tf.mul(diff, tf.sqrt(tf.div(tf.add(h1!, delta), tf.add(g2, delta))));
    const u2 = tf.add(tf.mul(h1!, m), tf.mul(tf.square(u), keep));
    return { update: tf.mul(u, rate), history: [g2, u2] };
  },
};
