// SGD with momentum: history = local_rate · g + momentum · history; update = history.
import * as tf from '@tensorflow/tfjs-core';
import type { UpdateContext, UpdateRule } from './update-rule.js';

const scalars = (localRate: number, { solver }: UpdateContext) => [localRate, solver.momentum as number];

export const sgd: UpdateRule = {
  historySets: 1,
  fused: { rule: 'SGD', scalars },
  step(diff, [h], localRate, ctx) {
    const [rate, momentum] = scalars(localRate, ctx) as [number, number];
    const next = tf.add(tf.mul(diff, rate), tf.mul(h!, momentum));
    return { update: next, history: [next] };
  },
};
