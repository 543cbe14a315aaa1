// The per-parameter update of a solver type (Caffe's ComputeUpdateValue), on the regularized gradient.
import type * as tf from '@tensorflow/tfjs-core';
import type { Message } from '../proto/schema.js';
import type { FusedRule } from './wasm-update-module.js';

export interface UpdateContext {
  /** The solver's parameters (momentum, delta, ...). */
  solver: Message;
  /** Current iteration (before ++iter), for Adam's bias correction. */
  iter: number;
}

export interface UpdateRule {
  /** How many history blobs per parameter the .solverstate holds (1, or 2 for AdaDelta and Adam). */
  readonly historySets: number;
  /**
   * The rule as one kernel (fused-update.ts, bitwise the same as `step`): its name there and the numbers it
   * needs, in the order of RULES[rule].scalars (the same numbers `step` multiplies with).
   */
  readonly fused?: { rule: FusedRule; scalars(localRate: number, ctx: UpdateContext): number[] };
  /**
   * Returns the value to subtract from the parameter, given the regularized diff and the local rate
   * (rate × lr_mult); updates `history` (one tensor per history set) in place by returning replacements.
   */
  step(diff: tf.Tensor, history: tf.Tensor[], localRate: number, ctx: UpdateContext): { update: tf.Tensor; history: tf.Tensor[] };
}
