// Shared by the native kernel tests: the add-on's presence, random inputs, and "the same call on pure wasm"
// (every native kernel taken out of tfjs' registry for the duration, so the reference is kdnet's wasm path).
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { nativeKernels } from '../../../src/backend/native/kernel-set.js';
import { nativeStatus } from '../../../src/backend/native/addon.js';
import { Rng } from '../../../src/util/rng.js';

export const nativeBuilt = nativeStatus().loaded;

const rng = new Rng(2024);
export const normal = (shape: number[]): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);

export const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

/** `f` with every native kernel removed (the wasm kernels kdnet had before), then the native ones back. */
export function onPureWasm<T>(f: () => T): T {
  const installed = nativeKernels().filter((k) => k.installed);
  for (const k of installed) k.uninstall();
  try {
    return f();
  } finally {
    for (const k of installed) k.install();
  }
}

/** Native and pure-wasm results agree to float32 accumulation error, relative to the result's scale. */
export function expectClose(native: tf.Tensor, wasm: tf.Tensor, rel = 2e-5): void {
  expect(native.shape).toEqual(wasm.shape);
  const a = native.dataSync();
  const b = wasm.dataSync();
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  expect(Number.isFinite(diff)).toBe(true);
  expect(diff).toBeLessThanOrEqual(rel * scale + 1e-6);
}
