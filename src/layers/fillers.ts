// Caffe's weight fillers (include/caffe/filler.hpp semantics), NCHW/OIHW shapes, values from a seeded Rng.
import * as tf from '@tensorflow/tfjs-core';
import { has, type Message } from '../proto/schema.js';
import type { Rng } from '../util/rng.js';
import { KdnetError } from '../errors.js';

const VARIANCE_NORM = { FAN_IN: 0, FAN_OUT: 1, AVERAGE: 2 } as const;

function fanScale(filler: Message, shape: number[]): number {
  const count = shape.reduce((a, b) => a * b, 1);
  // Caffe: fan_in = count / num, fan_out = count / channels (blob shape[0] and shape[1]).
  const fanIn = count / (shape[0] ?? 1);
  const fanOut = shape.length > 1 ? count / shape[1]! : count;
  const norm = has(filler, 'variance_norm') ? filler.variance_norm : VARIANCE_NORM.FAN_IN;
  return norm === VARIANCE_NORM.AVERAGE ? (fanIn + fanOut) / 2 : norm === VARIANCE_NORM.FAN_OUT ? fanOut : fanIn;
}

/** Values for a parameter blob of `shape` as `filler` describes (type defaults to constant 0). */
export function fillValues(filler: Message | undefined, shape: number[], rng: Rng, where = 'filler'): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const type: string = filler?.type ?? 'constant';
  switch (type) {
    case 'constant':
      out.fill(filler?.value ?? 0);
      break;
    case 'uniform': {
      const lo = filler!.min;
      const hi = filler!.max;
      for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * rng.uniform();
      break;
    }
    case 'gaussian': {
      const mean = filler!.mean;
      const std = filler!.std;
      for (let i = 0; i < count; i++) out[i] = mean + std * rng.normal();
      const sparse = Number(filler!.sparse);
      if (sparse >= 0) {
        // Keep each weight with probability sparse / num_outputs (Caffe: Bernoulli mask on shape[0] = outputs).
        if (shape.length < 2) throw new KdnetError(`${where}: sparse gaussian filler needs a blob with at least 2 axes`);
        const numOutputs = shape[0]!;
        const p = sparse / numOutputs;
        for (let i = 0; i < count; i++) if (rng.uniform() >= p) out[i] = 0;
      }
      break;
    }
    case 'positive_unitball': {
      for (let i = 0; i < count; i++) out[i] = rng.uniform();
      const num = shape[0] ?? 1;
      const dim = count / num;
      for (let n = 0; n < num; n++) {
        let sum = 0;
        for (let j = 0; j < dim; j++) sum += out[n * dim + j]!;
        for (let j = 0; j < dim; j++) out[n * dim + j] = out[n * dim + j]! / sum;
      }
      break;
    }
    case 'xavier': {
      const scale = Math.sqrt(3 / fanScale(filler!, shape));
      for (let i = 0; i < count; i++) out[i] = -scale + 2 * scale * rng.uniform();
      break;
    }
    case 'msra': {
      const std = Math.sqrt(2 / fanScale(filler!, shape));
      for (let i = 0; i < count; i++) out[i] = std * rng.normal();
      break;
    }
    case 'bilinear': {
      if (shape.length !== 4 || shape[2] !== shape[3]) {
        throw new KdnetError(`${where}: bilinear filler needs a 4-D blob with square kernels, got [${shape.join(', ')}]`);
      }
      const k = shape[3]!;
      const f = Math.ceil(k / 2);
      const c = (2 * f - 1 - (f % 2)) / (2 * f);
      for (let i = 0; i < count; i++) {
        const x = i % k;
        const y = Math.floor(i / k) % k;
        out[i] = (1 - Math.abs(x / f - c)) * (1 - Math.abs(y / f - c));
      }
      break;
    }
    default:
      throw new KdnetError(`${where}: unknown filler type '${type}' (constant, uniform, gaussian, positive_unitball, xavier, msra, bilinear)`);
  }
  return out;
}

let shapeOnly = false;

/**
 * What a parameter blob is during shape-only set-up: its shape and size, and no memory. Layers only read
 * `shape`/`size` of their blobs in setup; anything else (compute, backward) is never called on a layer set
 * up this way, and would fail loudly as a bug.
 */
class ShapeOnlyParam {
  readonly dtype = 'float32';
  readonly size: number;
  readonly rank: number;
  readonly isDisposed = false;
  constructor(readonly shape: number[]) {
    this.size = shape.reduce((a, b) => a * b, 1);
    this.rank = shape.length;
  }
  dispose(): void {}
}

/**
 * Runs `fn` with fillers producing shape-only placeholders instead of tensors: static shape inference
 * (`kdnet check`) sets layers up to learn their shapes and parameter counts without allocating anything, so
 * describing a net with a 10-billion-element weight costs nothing (and the size is reported, not attempted).
 */
export function withShapeOnlyFillers<T>(fn: () => T): T {
  const before = shapeOnly;
  shapeOnly = true;
  try {
    return fn();
  } finally {
    shapeOnly = before;
  }
}

export function fillTensor(filler: Message | undefined, shape: number[], rng: Rng, where?: string): tf.Variable {
  if (shapeOnly) return new ShapeOnlyParam([...shape]) as unknown as tf.Variable;
  const initial = tf.tensor(fillValues(filler, shape, rng, where), shape, 'float32');
  const v = tf.variable(initial, true);
  initial.dispose();
  return v;
}
