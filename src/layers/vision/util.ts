// Small helpers for the vision layers: parameter sub-messages with proto2 defaults, Caffe's axis and count
// arithmetic, shape text for messages.
import { has, newMessage, type Message } from '../../proto/schema.js';
import type { Layer, Shape } from '../layer.js';

/** The layer's `<field>` parameter message, or an empty one (every field at its proto2 default). */
export function paramOf(layer: Layer, field: string, typeName: string): Message {
  return (layer.param[field] as Message | null | undefined) ?? newMessage(typeName);
}

export function shapeText(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Product of shape[start..end) (Caffe's Blob::count(start, end)). */
export function countOf(shape: Shape, start = 0, end = shape.length): number {
  let n = 1;
  for (let i = start; i < end; i++) n *= shape[i]!;
  return n;
}

/** Blob::CanonicalAxisIndex, reporting an out-of-range axis as an error of `layer` at `field`. */
export function canonicalAxis(layer: Layer, axis: number, shape: Shape, field: string): number {
  const n = shape.length;
  if (!Number.isInteger(axis) || axis < -n || axis >= n) {
    throw layer.error(`axis ${axis} is out of range for a ${n}-D blob of shape ${shapeText(shape)} (valid: ${-n} to ${n - 1})`, field);
  }
  return axis < 0 ? axis + n : axis;
}

/**
 * Whether parameter blob `i` is frozen by `param { lr_mult: 0 }` (Caffe then skips its gradient: the layer's
 * param_propagate_down is false).
 */
export function lrMultZero(layer: Layer, i: number): boolean {
  const spec = (layer.param.param as Message[] | undefined)?.[i];
  return !!spec && has(spec, 'lr_mult') && spec.lr_mult === 0;
}

export { sameShape } from '../tensor-shape.js';
