// KDNET_NATIVE=0 turns the native kernels off: kdnet says so once at start-up, reports "wasm only" and
// runs tfjs' (and kdnet's) wasm kernels. This file's process starts with the variable set before anything
// loads the add-on.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';

process.env.KDNET_NATIVE = '0';

describe('KDNET_NATIVE=0', () => {
  it('keeps the wasm kernels and says so in the start-up line', async () => {
    const { initBackend } = await import('../../../src/backend/select.js');
    const { setLogSink } = await import('../../../src/log.js');
    const { kernelSet, nativeKernels } = await import('../../../src/backend/native/kernel-set.js');
    const lines: string[] = [];
    const restore = setLogSink((_, m) => lines.push(m));
    try {
      await initBackend('wasm');
    } finally {
      setLogSink(restore);
    }
    expect(lines).toEqual([expect.stringMatching(/^Using backend wasm/), 'Kernels: wasm only: turned off by KDNET_NATIVE=0']);
    expect(kernelSet().native).toBe(false);
    expect(nativeKernels().every((k) => !k.installed)).toBe(true);
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true);
    expect(Array.from(y.dataSync())).toEqual([17, 23, 39, 53]);
  });
});
