// Small helpers shared by the loss and distillation layer tests: build a layer (optionally with a base folder),
// run forward + backward on plain arrays, deterministic pseudo-random values, and a JS softmax reference.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { parseCaffeText } from '../../../src/proto/text.js';
import { layerFactory } from '../../../src/layers/registry.js';
import type { Layer } from '../../../src/layers/layer.js';
import { Phase } from '../../../src/net/net-state.js';
import { Rng } from '../../../src/util/rng.js';
import '../../../src/net/all-layers.js';

export function layerFrom(text: string, baseDir?: string): Layer {
  const lp = parseCaffeText(`layer { ${text} }`, 'NetParameter', 'test.prototxt').message.layer[0];
  const Factory = layerFactory(lp.type);
  if (!Factory) throw new Error(`layer type ${lp.type} is not registered`);
  return new Factory(lp, { phase: Phase.TRAIN, rng: new Rng(3), baseDir });
}

export interface Input {
  shape: number[];
  values: number[] | Float32Array;
}

export interface RunResult {
  tops: number[][];
  topShapes: number[][];
  diffs: (number[] | null)[];
}

/** setup + forward (+ backward with the given top diffs and propagate_down); everything is disposed. */
export function run(layer: Layer, inputs: Input[], opts: { topDiffs?: number[]; propagate?: boolean[] } = {}): RunResult {
  const before = tf.memory().numTensors;
  const shapes = layer.setup(inputs.map((i) => i.shape));
  const bottoms = inputs.map((i) => tf.tensor(Float32Array.from(i.values), i.shape));
  const tops = layer.forward(bottoms);
  tops.forEach((t, i) => expect(t.shape, `top ${i} shape`).toEqual(shapes[i]));
  const result: RunResult = { tops: tops.map((t) => Array.from(t.dataSync())), topShapes: tops.map((t) => t.shape), diffs: [] };
  if (opts.propagate) {
    const diffs = tops.map((t, i) => tf.fill(t.shape, opts.topDiffs?.[i] ?? (i === 0 ? 1 : 0)));
    try {
      const { bottomDiffs } = layer.backward(bottoms, tops, diffs, opts.propagate);
      result.diffs = bottomDiffs.map((d) => (d ? Array.from(d.dataSync()) : null));
      bottomDiffs.forEach((d, i) => d && expect(d.shape, `diff ${i} shape`).toEqual(inputs[i]!.shape));
      tf.dispose(bottomDiffs.filter((d): d is tf.Tensor => d !== null));
    } finally {
      tf.dispose(diffs);
    }
  }
  tf.dispose([...bottoms, ...tops]);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return result;
}

export function randoms(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

export function close(actual: number[] | null | undefined, expected: number[], tol = 1e-5): void {
  expect(actual).toBeTruthy();
  expect(actual!.length).toBe(expected.length);
  actual!.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) expect.fail(`[${i}] ${a} vs expected ${e}`);
  });
}

/** Softmax of each row of a row-major [rows, cols] array, in double precision. */
export function softmaxRows(x: ArrayLike<number>, rows: number, cols: number, scale = 1): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: cols }, (_, c) => x[r * cols + c]! * scale);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}
