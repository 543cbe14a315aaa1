// Shared pieces of the neuron family: one bottom, one top of the same shape, an element-wise map whose
// backward is written out as Caffe computes it (not autodiff), and the axis helpers of Scale and Bias.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';
import { newMessage, type Message } from '../../proto/schema.js';

/** The layer's `<name>_param` message, or an empty one (proto2 defaults) when the prototxt has none. */
export function paramMessage(layer: Layer, field: string, typeName: string): Message {
  return (layer.param[field] as Message | null | undefined) ?? newMessage(typeName);
}

/** Caffe stores layer parameters as 32-bit floats: decisions such as `scale != 1` are made on those. */
export const f32 = Math.fround;

/**
 * A Caffe NeuronLayer: exactly one bottom and one top with the bottom's shape. Subclasses give the forward
 * map and Caffe's backward formula; in-place use (top named like the bottom) is allowed.
 */
export abstract class NeuronLayer extends Layer {
  override bottomCount(): [number, number] {
    return [1, 1];
  }
  override topCount(): [number, number] {
    return [1, 1];
  }

  /** Whether the top blob is the bottom blob (Caffe then overwrites the bottom's data with the top's). */
  get inPlace(): boolean {
    const tops = this.param.top as string[];
    const bottoms = this.param.bottom as string[];
    return tops.length > 0 && tops[0] === bottoms[0];
  }

  setup(bottomShapes: Shape[]): Shape[] {
    return [bottomShapes[0]!.slice()];
  }

  /**
   * d objective / d bottom from the top diff. `x` is the bottom data as Caffe's backward reads it: after an
   * in-place forward Caffe's bottom blob holds the top's values, so `x` is then the top (see `bottomSeenByBackward`).
   */
  protected abstract gradient(x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, original: tf.Tensor): tf.Tensor;

  /**
   * Whether Caffe's backward of this layer reads the bottom's data through the (shared) blob, so that an
   * in-place layer sees its own output there. Layers that keep their own copy (PReLU, Swish's sigmoid)
   * or read only the top (Sigmoid, TanH, Exp) return false.
   */
  protected readsBottomData(): boolean {
    return true;
  }

  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    const paramDiffs = this.blobs.map(() => null);
    if (!propagateDown[0]) return { bottomDiffs: [null], paramDiffs };
    const original = bottoms[0]!;
    const y = tops[0]!;
    const x = this.inPlace && this.readsBottomData() ? y : original;
    const d = tf.tidy(() => this.gradient(x, y, topDiffs[0]!, original));
    return { bottomDiffs: [d], paramDiffs };
  }
}

/** 0/1 float mask of a boolean tensor. */
export function mask(b: tf.Tensor): tf.Tensor {
  return tf.cast(b, 'float32');
}

/** Caffe's Blob::CanonicalAxisIndex with a layer-positioned error. */
export function canonicalAxis(layer: Layer, axis: number, shape: Shape, field: string): number {
  const n = shape.length;
  if (axis < -n || axis >= n) {
    throw layer.error(`axis ${axis} out of range for ${n}-D bottom blob with shape [${shape.join(', ')}] (valid: ${-n} to ${n - 1})`, field);
  }
  return axis < 0 ? axis + n : axis;
}

/**
 * Where a scale/bias blob of shape `operand` lines up with `x` (Caffe's Scale/Bias Reshape): a scalar
 * operand uses axis 0; otherwise its dimensions must equal x's from `axis` on. Returns outer, dim, inner.
 */
export function alignOperand(
  layer: Layer,
  x: Shape,
  operand: Shape,
  axisParam: number,
  what: string,
  field: string,
): { axis: number; outer: number; dim: number; inner: number } {
  const axis = operand.length === 0 ? 0 : canonicalAxis(layer, axisParam, x, field);
  if (x.length < axis + operand.length) {
    throw layer.error(
      `${what} of shape [${operand.join(', ')}] extends past the bottom's shape [${x.join(', ')}] when applied from axis ${axis}`,
      field,
    );
  }
  operand.forEach((d, i) => {
    if (x[axis + i] !== d) {
      throw layer.error(
        `${what} shape [${operand.join(', ')}] does not match the bottom's shape [${x.join(', ')}] from axis ${axis}: ` +
          `dimension ${i} is ${d} but bottom axis ${axis + i} is ${x[axis + i]}`,
        field,
      );
    }
  });
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { axis, outer: prod(x.slice(0, axis)), dim: prod(operand), inner: prod(x.slice(axis + operand.length)) };
}

/**
 * The shape of a learned scale/bias blob: `numAxes` axes of x from `axis` (-1: to the end), with Caffe's
 * checks of LayerSetUp.
 */
export function learnedOperandShape(layer: Layer, x: Shape, axisParam: number, numAxes: number, paramName: string): Shape {
  const axis = canonicalAxis(layer, axisParam, x, paramName);
  if (numAxes < -1) throw layer.error(`num_axes must be non-negative, or -1 to extend to the end of the bottom (got ${numAxes})`, paramName);
  if (numAxes >= 0 && x.length < axis + numAxes) {
    throw layer.error(
      `num_axes ${numAxes} from axis ${axis} extends past the bottom's shape [${x.join(', ')}] (${x.length} axes)`,
      paramName,
    );
  }
  return numAxes === -1 ? x.slice(axis) : x.slice(axis, axis + numAxes);
}

/**
 * `op(x, operand)` with the operand broadcast along x's axes [axis, axis + operand rank) (Caffe's
 * outer x dim x inner layout of Scale and Bias).
 */
export function alongAxis(x: tf.Tensor, operand: tf.Tensor, axis: number, op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.Tensor {
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const outer = prod(x.shape.slice(0, axis));
  const dim = operand.size;
  const inner = x.size / (outer * dim || 1);
  const r = op(tf.reshape(x, [outer, dim, inner]), tf.reshape(operand, [1, dim, 1]));
  return tf.reshape(r, x.shape);
}

/** The sum of `t` over every axis outside [axis, axis + rank of operandShape), shaped like the operand. */
export function sumAlongAxis(t: tf.Tensor, operandShape: number[], axis: number): tf.Tensor {
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const outer = prod(t.shape.slice(0, axis));
  const dim = prod(operandShape);
  const inner = t.size / (outer * dim || 1);
  return tf.reshape(tf.sum(tf.reshape(t, [outer, dim, inner]), [0, 2]), operandShape);
}
