// The native kernels leak nothing: over 10,000 calls of each (test/backend/native/leak-calls.ts: the tfjs-layout
// convolutions, matmul and max pooling, the Caffe-layout convolution, GEMM and pooling kernels, and the fallback
// paths) the tensor count, the wasm backend's buffer count and the wasm heap stay where they were after
// warm-up, and the process's RSS does not keep growing (oneDNN's primitive cache is built once per geometry;
// the margin allows for allocator noise, not for a per-call leak of ≥ 16 KB). 10,000 is issue 12's count.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/select.js';
import { nativeBuilt } from './support.js';
import { leakCounters, leakInputs, leakRound } from './leak-calls.js';

const CALLS = 10000;

describe.skipIf(!nativeBuilt)('native kernels: no leaks', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  it(`keeps tensors, wasm buffers, heap and RSS flat over ${CALLS} calls of each kernel`, () => {
    const { input, dispose } = leakInputs();
    for (let i = 0; i < 50; i++) leakRound(input);
    const before = leakCounters();
    for (let i = 0; i < CALLS; i++) leakRound(input);
    const after = leakCounters();
    expect(after.tensors).toBe(before.tensors);
    expect(after.buffers).toBe(before.buffers);
    expect(after.heap).toBe(before.heap);
    expect(after.rss - before.rss).toBeLessThan(CALLS * 16 * 1024);
    dispose();
  });
});
