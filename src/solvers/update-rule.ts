// The per-parameter update of a solver type (Caffe's ComputeUpdateValue), on the regularized gradient.
import type * as tf from '@tensorflow/tfjs-core';
import type { Message } from '../proto/schema.js';

export interface UpdateContext {
  /** The solver's parameters (momentum, delta, ...). */
  solver: Message;
  /** Current iteration (before ++iter), for Adam's bias correction. */
  iter: number;
}

export interface UpdateRule {
  /** How many history blobs per parameter the .solverstate holds (1, or 2 for AdaDelta and Adam). */
  readonly historySets: number;
  /** Set when fused-update.ts implements this rule as one in-place pass (bitwise the same as `step`). */
  readonly fusedAs?: 'SGD' | 'Nesterov';
  /**
   * Returns the value to subtract from the parameter, given the regularized diff and the local rate
   * (rate × lr_mult); updates `history` (one tensor per history set) in place by returning replacements.
   */
  step(diff: tf.Tensor, history: tf.Tensor[], localRate: number, ctx: UpdateContext): { update: tf.Tensor; history: tf.Tensor[] };
}
