// A layer's contract, after Caffe's Layer<Dtype>: setup/reshape computes top shapes and creates parameter
// blobs, forward maps bottoms to tops, backward maps top diffs to bottom diffs and parameter diffs.
// Tensors are NCHW (Caffe's blob layout) at this boundary; a layer may use another layout inside.
import * as tf from '@tensorflow/tfjs-core';
import '../backend/tfjs-setup.js';
import type { Message } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { positionOf } from '../prototxt/side-tables.js';
import type { Rng } from '../util/rng.js';
import { fillTensor } from './fillers.js';
import { blobSizeProblem, resolveSizeLimits, type SizeLimits } from '../net/size-limits.js';

export type Shape = number[];

export interface LayerContext {
  /** Phase.TRAIN (0) or Phase.TEST (1) of the net this layer belongs to. */
  phase: number;
  /** Seeded randomness for fillers and dropout. */
  rng: Rng;
  /** Folder of the net file, for layers that read side files (InfogainLoss H, mean files). */
  baseDir?: string;
  /** Run-time size limits checked before a parameter blob is allocated (default: resolveSizeLimits()). */
  sizeLimits?: SizeLimits;
  /** Folders searched (before baseDir) for the JavaScript ports of Python layers. */
  layersPath?: string[];
}

export interface BackwardResult {
  /** One per bottom: d objective / d bottom, or null where not propagated. */
  bottomDiffs: (tf.Tensor | null)[];
  /** One per parameter blob: d objective / d param (not accumulated: the net accumulates), or null. */
  paramDiffs: (tf.Tensor | null)[];
}

export abstract class Layer {
  readonly name: string;
  readonly type: string;
  /** Parameter blobs in Caffe's order and shapes (conv: weights OIHW, bias). Set by setup. */
  blobs: tf.Variable[] = [];
  /** Parameter blobs that the solver must not update even with lr_mult > 0 (e.g. BatchNorm statistics). */
  readonly frozenBlobs = new Set<number>();

  constructor(
    readonly param: Message,
    readonly ctx: LayerContext,
  ) {
    this.name = param.name;
    this.type = param.type;
  }

  // ---- metadata (Caffe's ExactNumBottomBlobs & co) ----
  /** [min, max] number of bottoms; max Infinity for any. */
  bottomCount(): [number, number] {
    return [0, Infinity];
  }
  topCount(): [number, number] {
    return [0, Infinity];
  }
  /** Loss layers get loss_weight 1 on their first top by default. */
  isLoss(): boolean {
    return false;
  }
  /** Caffe's AutoTopBlobs: missing tops are created anonymously (loss layers written without a top). */
  autoTopBlobs(): boolean {
    return this.isLoss();
  }
  /** Whether force_backward may request a diff for bottom i (false for labels, indices). */
  allowForceBackward(_bottomIndex: number): boolean {
    return true;
  }
  /** Data layers whose shapes come from reading their source (a database, files): static tools skip them. */
  readsDataSource(): boolean {
    return false;
  }
  /** Layers with no backward at all (data, Accuracy, ArgMax). */
  hasBackward(): boolean {
    return true;
  }

  /**
   * Checks parameters and bottom shapes, creates parameter blobs on the first call (fillers), and returns
   * the top shapes. Called again when bottom shapes change (Caffe's Reshape).
   */
  abstract setup(bottomShapes: Shape[]): Shape[];

  /**
   * Forward as a pure function of bottoms and parameter values. Parameter layers must read weights from
   * `params` (not `this.blobs`) so that autodiff sees them.
   */
  abstract compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[];

  /**
   * Forward pass. Defaults to `compute` with the current parameters; layers with side effects (BatchNorm's
   * running statistics, Dropout's mask) override it. Must not leak intermediate tensors.
   */
  forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => this.compute(bottoms, this.blobs));
  }

  /**
   * Backward pass. The default differentiates `forward` with tfjs autodiff w.r.t. the bottoms that need a
   * diff and every parameter blob; layers whose Caffe gradient is not the exact derivative (the distillation
   * losses) or that can do better override it.
   */
  backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    return autodiffBackward(this, bottoms, tops, topDiffs, propagateDown);
  }

  /**
   * A new parameter blob of `shape` filled by `filler`, after checking its size against the run-time limits
   * (nothing is allocated for a blob that is too large). `fillerPath` names the filler in messages, e.g.
   * `convolution_param.weight_filler`; its first part positions the error.
   */
  protected createParam(filler: Message | undefined, shape: Shape, fillerPath: string): tf.Variable {
    const problem = blobSizeProblem(shape, this.ctx.sizeLimits ?? resolveSizeLimits());
    if (problem) throw this.error(`parameter blob ${this.blobs.length} of shape ${shape.join('x') || '(scalar)'}: ${problem}`, fillerPath.split('.')[0]);
    return fillTensor(filler, shape, this.ctx.rng, `layer "${this.name}" ${fillerPath}`);
  }

  /** A KdnetError about this layer, positioned at its definition when it came from a file. */
  error(message: string, field?: string): KdnetError {
    return new KdnetError(message, {
      layer: this.name,
      position: positionOf(this.param, field) ?? positionOf(this.param),
      path: `layer "${this.name}" (${this.type})${field ? `.${field}` : ''}`,
    });
  }

  /**
   * Position state beyond parameters (a data layer's cursor), saved next to snapshots so a resumed run
   * continues exactly where it stopped. JSON-serializable; undefined when the layer has none.
   */
  saveState(): unknown {
    return undefined;
  }

  restoreState(_state: unknown): void {}

  /** Releases parameter tensors. */
  dispose(): void {
    for (const b of this.blobs) b.dispose();
    this.blobs = [];
  }
}

/** Vector-Jacobian product of `layer.compute` by tfjs autodiff. */
export function autodiffBackward(
  layer: Layer,
  bottoms: tf.Tensor[],
  _tops: tf.Tensor[],
  topDiffs: tf.Tensor[],
  propagateDown: boolean[],
): BackwardResult {
  const wantBottom = bottoms.map((_, i) => propagateDown[i] === true);
  const wrt: tf.Tensor[] = [];
  const slots: Array<{ kind: 'bottom' | 'param'; index: number }> = [];
  bottoms.forEach((b, i) => {
    if (wantBottom[i]) {
      wrt.push(b);
      slots.push({ kind: 'bottom', index: i });
    }
  });
  layer.blobs.forEach((p, i) => {
    if (!layer.frozenBlobs.has(i)) {
      wrt.push(p);
      slots.push({ kind: 'param', index: i });
    }
  });
  const bottomDiffs: (tf.Tensor | null)[] = bottoms.map(() => null);
  const paramDiffs: (tf.Tensor | null)[] = layer.blobs.map(() => null);
  if (!wrt.length) return { bottomDiffs, paramDiffs };
  const grads = tf.tidy(() => {
    const objective = (...xs: tf.Tensor[]): tf.Scalar => {
      const bs = bottoms.slice();
      const ps: tf.Tensor[] = layer.blobs.slice();
      xs.forEach((x, k) => {
        const s = slots[k]!;
        if (s.kind === 'bottom') bs[s.index] = x;
        else ps[s.index] = x;
      });
      const outs = layer.compute(bs, ps);
      let total: tf.Scalar = tf.scalar(0);
      outs.forEach((o, i) => {
        const d = topDiffs[i];
        if (d) total = tf.add(total, tf.sum(tf.mul(o, d)));
      });
      return total;
    };
    return tf.grads(objective)(wrt);
  });
  grads.forEach((g, k) => {
    const s = slots[k]!;
    if (s.kind === 'bottom') bottomDiffs[s.index] = g;
    else paramDiffs[s.index] = g;
  });
  return { bottomDiffs, paramDiffs };
}
