// Shared pieces of the loss layers (Caffe's LossLayer and the helpers its subclasses repeat): the scalar top,
// the first-dimension check, loss_param normalization, label reading with static_cast<int> truncation, and
// moving a class axis to the last position for row-wise softmax work.
import * as tf from '@tensorflow/tfjs-core';
import { caffeEnum, has, newMessage, type Message } from '../../proto/schema.js';
import { Layer, type Shape } from '../layer.js';

/** Smallest positive normal float (Caffe's FLT_MIN clamp before log). */
export const FLT_MIN = 1.1754943508222875e-38;
/** Caffe's kLOG_THRESHOLD (InfogainLoss, MultinomialLogisticLoss). */
export const LOG_THRESHOLD = 1e-20;

const modes = caffeEnum('LossParameter.NormalizationMode').values;
export const Normalization = {
  FULL: modes.FULL!,
  VALID: modes.VALID!,
  BATCH_SIZE: modes.BATCH_SIZE!,
  NONE: modes.NONE!,
} as const;

export function countOf(shape: Shape, start = 0, end = shape.length): number {
  let n = 1;
  for (let i = start; i < end; i++) n *= shape[i]!;
  return n;
}

/** Blob::LegacyShape: dims past the last axis read as 1. */
export function legacyDim(shape: Shape, index: number): number {
  return index < shape.length ? shape[index]! : 1;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** A sub-message of the layer parameter, or an empty one (all defaults) when unset. */
export function subParam(layer: Layer, field: string, typeName: string): Message {
  const m = layer.param[field] as Message | null | undefined;
  return m ?? newMessage(typeName);
}

/** Blob::CanonicalAxisIndex with a positioned error instead of a CHECK failure. */
export function canonicalAxis(layer: Layer, axis: number, shape: Shape, field: string): number {
  const n = shape.length;
  if (axis < -n || axis >= n) {
    throw layer.error(`axis ${axis} is out of range for the ${n}-D bottom ${fmtShape(shape)} (allowed: ${-n} to ${n - 1})`, field);
  }
  return axis < 0 ? axis + n : axis;
}

/** loss_param.normalization, else the legacy `normalize` bool (true: VALID, false: BATCH_SIZE), else `unset`. */
export function normalizationMode(layer: Layer, unset: number): number {
  const lp = layer.param.loss_param as Message | null | undefined;
  if (lp && has(lp, 'normalization')) return lp.normalization as number;
  if (lp && has(lp, 'normalize')) return lp.normalize ? Normalization.VALID : Normalization.BATCH_SIZE;
  return unset;
}

/** Caffe's get_normalizer: what the summed loss is divided by, never below 1. */
export function normalizer(mode: number, outer: number, inner: number, validCount: number): number {
  let n: number;
  switch (mode) {
    case Normalization.FULL:
      n = outer * inner;
      break;
    case Normalization.VALID:
      n = validCount;
      break;
    case Normalization.BATCH_SIZE:
      n = outer;
      break;
    default:
      n = 1;
  }
  return Math.max(1, n);
}

/** loss_param.ignore_label when set. */
export function ignoreLabelOf(layer: Layer): number | undefined {
  const lp = layer.param.loss_param as Message | null | undefined;
  return lp && has(lp, 'ignore_label') ? (lp.ignore_label as number) : undefined;
}

/** C++ static_cast<int> of a float label (truncation toward zero). */
export function truncLabel(v: number): number {
  return Math.trunc(v);
}

export interface Labels {
  /** Truncated label per position; -1 where the position is ignored (so tf.oneHot gives a zero row). */
  index: Int32Array;
  /** 1 where the position counts, 0 where its label equals ignore_label. */
  valid: Float32Array;
  validCount: number;
  /** Whether some position is ignored. */
  anyIgnored: boolean;
}

/**
 * Reads the first `n` labels (C order), truncates them like Caffe and marks ignored positions. With
 * `classes` given, every counted label must lie in [0, classes): Caffe only DCHECKs this (release builds read
 * out of bounds), kdnet reports it.
 */
export function readLabels(layer: Layer, label: tf.Tensor, n: number, ignore: number | undefined, classes?: number, bottom = 1): Labels {
  const data = label.dataSync();
  const index = new Int32Array(n);
  const valid = new Float32Array(n);
  let validCount = 0;
  for (let i = 0; i < n; i++) {
    const raw = data[i]!;
    const v = truncLabel(raw);
    if (ignore !== undefined && v === ignore) {
      index[i] = -1;
      continue;
    }
    if (classes !== undefined && !(v >= 0 && v < classes)) {
      const name = (layer.param.bottom as string[])[bottom] ?? `bottom ${bottom}`;
      throw layer.error(
        `label ${raw} at position ${i} of '${name}' is not a class index in [0, ${classes})` +
          (ignore !== undefined ? ` nor ignore_label ${ignore}` : '') +
          ' (Caffe reads out of bounds here)',
      );
    }
    index[i] = v;
    valid[i] = 1;
    validCount++;
  }
  return { index, valid, validCount, anyIgnored: validCount < n };
}

/** x viewed as [outer, C, inner] and rearranged to [outer·inner, C] (row i·inner + j is position (i, j)). */
export function classLast(x: tf.Tensor, outer: number, classes: number, inner: number): tf.Tensor2D {
  if (inner === 1) return tf.reshape(x, [outer, classes]);
  return tf.reshape(tf.transpose(tf.reshape(x, [outer, classes, inner]), [0, 2, 1]), [outer * inner, classes]);
}

/** Inverse of classLast, back to `shape`. */
export function classBack(y: tf.Tensor, shape: Shape, outer: number, classes: number, inner: number): tf.Tensor {
  if (inner === 1) return tf.reshape(y, shape);
  return tf.reshape(tf.transpose(tf.reshape(y, [outer, inner, classes]), [0, 2, 1]), shape);
}

/** Softmax over `axis` of x, in x's layout. */
export function softmaxAlong(x: tf.Tensor, axis: number): tf.Tensor {
  const outer = countOf(x.shape, 0, axis);
  const classes = x.shape[axis]!;
  const inner = countOf(x.shape, axis + 1);
  return classBack(tf.softmax(classLast(x, outer, classes, inner)), x.shape, outer, classes, inner);
}

/**
 * Caffe's LossLayer: two bottoms (prediction, label), one scalar top with loss_weight 1 by default, no
 * forced gradient into bottom 1, and the same first dimension for both bottoms.
 */
export abstract class LossLayer extends Layer {
  override bottomCount(): [number, number] {
    return [2, 2];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }
  override isLoss(): boolean {
    return true;
  }
  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex !== 1;
  }

  protected bottomName(i: number): string {
    return (this.param.bottom as string[])[i] ?? `bottom ${i}`;
  }

  protected topNames(): string[] {
    return this.param.top as string[];
  }

  /** LossLayer::Reshape's check: both bottoms have the same first dimension. */
  protected checkFirstDims(shapes: Shape[], what = 'label'): void {
    const [a, b] = [shapes[0]!, shapes[1]!];
    if (a.length === 0 || b.length === 0) {
      throw this.error(`bottoms must have at least one axis (got ${fmtShape(a)} and ${fmtShape(b)})`, 'bottom');
    }
    if (a[0] !== b[0]) {
      throw this.error(
        `the data and ${what} should have the same first dimension: '${this.bottomName(0)}' is ${fmtShape(a)} but '${this.bottomName(1)}' is ${fmtShape(b)}`,
        'bottom',
      );
    }
  }

  /** Caffe aborts (LOG(FATAL)) when asked for the gradient of an input it cannot differentiate. */
  protected refuseBackprop(propagateDown: boolean[], indices: number[], what: string): void {
    for (const i of indices) {
      if (propagateDown[i]) {
        throw this.error(
          `${this.type} cannot backpropagate to its ${what} input '${this.bottomName(i)}' (bottom ${i}); Caffe aborts here. ` +
            `Stop the gradient before it: propagate_down: false for that bottom, or lr_mult: 0 on the layers that produce it.`,
          'bottom',
        );
      }
    }
  }
}

/** tf.tidy for a list of diffs where some are null (tidy itself only returns tensors). */
export function tidyDiffs(fn: () => (tf.Tensor | null)[]): (tf.Tensor | null)[] {
  let present: boolean[] = [];
  const kept = tf.tidy(() => {
    const r = fn();
    present = r.map((t) => t !== null);
    return r.filter((t): t is tf.Tensor => t !== null);
  });
  let k = 0;
  return present.map((p) => (p ? kept[k++]! : null));
}

/** One row per position with 1 at its label (all zeros where index < 0), built on the host. */
export function oneHotRows(index: Int32Array, classes: number): tf.Tensor2D {
  const out = new Float32Array(index.length * classes);
  index.forEach((c, r) => {
    if (c >= 0) out[r * classes + c] = 1;
  });
  return tf.tensor2d(out, [index.length, classes]);
}

/**
 * g with the ignored positions set to +0 (Caffe zeroes them; a multiply by 0 would leave −0 for negative
 * entries). `valid` has one flag per row of a [rows, …] g.
 */
export function zeroIgnored(g: tf.Tensor, valid: Float32Array): tf.Tensor {
  const per = g.size / valid.length;
  const keep = new Uint8Array(g.size);
  valid.forEach((v, r) => {
    if (v) keep.fill(1, r * per, (r + 1) * per);
  });
  return tf.where(tf.tensor(keep, g.shape, 'bool'), g, tf.zerosLike(g));
}

/**
 * Remembers the labels read from the last label tensor, so that forward and backward (and repeated forwards
 * on the same input) read them from the device once. tfjs tensors are immutable and their ids are never
 * reused; Variables can change in place, so they are always re-read.
 */
export class LabelCache {
  private last: { id: number; labels: Labels } | undefined;

  get(label: tf.Tensor, read: () => Labels): Labels {
    if (label instanceof tf.Variable) return read();
    if (this.last?.id !== label.id) this.last = { id: label.id, labels: read() };
    return this.last.labels;
  }

  clear(): void {
    this.last = undefined;
  }
}
