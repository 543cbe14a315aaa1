// Adam: m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; update = local_rate · √(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε), t = iter + 1.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateContext, UpdateRule } from './update-rule.js';

const scalars = (localRate: number, { solver, iter }: UpdateContext) => {
  const b1 = solver.momentum as number;
  const b2 = solver.momentum2 as number;
  const t = iter + 1;
  const correction = Math.fround(Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t)));
  return [localRate * correction, solver.delta as number, b1, 1 - b1, b2, 1 - b2];
};

export const adam: UpdateRule = {
  historySets: 2,
  fused: { rule: 'Adam', scalars },
  step(diff, [m, v], localRate, ctx) {
    const [rate, delta, b1, keep1, b2, keep2] = scalars(localRate, ctx) as [number, number, number, number, number, number];
    const m2 = tf.add(tf.mul(m!, b1), tf.mul(diff, keep1));
    const v2 = tf.add(tf.mul(v!, b2), tf.mul(tf.square(diff), keep2));
    const update = tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), delta)), rate);
    return { update, history: [m2, v2] };
  },
};
