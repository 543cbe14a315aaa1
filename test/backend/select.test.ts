// Backend choice: best present (tensorflow > wasm > cpu), overrides, the start-up lines.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { setLogSink } from '../../src/log.js';
import { KdnetError } from '../../src/errors.js';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tfjsNodePresent = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

describe('backend selection', () => {
  it('picks the best backend present and says which and why in one line (and the kernel set on wasm)', async () => {
    const lines: string[] = [];
    const restore = setLogSink((_, m) => lines.push(m));
    try {
      const choice = await initBackend(undefined);
      expect(choice.name).toBe(tfjsNodePresent ? 'tensorflow' : 'wasm');
      expect(tf.getBackend()).toBe(choice.name);
      // On wasm a second line names the kernel set (native add-on or pure wasm).
      const kernelLine = choice.name === 'wasm' ? [expect.stringMatching(/^Kernels: (native: |wasm only: )/)] : [];
      expect(lines).toEqual([`Using backend ${choice.name} (${choice.reason})`, ...kernelLine]);
    } finally {
      setLogSink(restore);
    }
  });

  it('takes an override and computes on it', async () => {
    const c = await initBackend('cpu', true);
    expect(c.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(Array.from(tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync())).toEqual([4, 6]);
    const w = await initBackend('wasm', true);
    expect(w.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects unknown and unavailable backends with a clear error', async () => {
    await expect(initBackend('gpu', true)).rejects.toThrow(KdnetError);
    await expect(initBackend('gpu', true)).rejects.toThrow("unknown backend 'gpu' (expected tensorflow, wasm or cpu)");
    if (!tfjsNodePresent) {
      await expect(initBackend('tensorflow', true)).rejects.toThrow(/neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node loads here/);
    }
  });
});
