// The native kernels leak nothing: over 2,000 calls of each (forward conv, both conv backprops, a transposed
// matmul, max pooling and its gradient, Caffe's MAX and AVE pooling, and the fallback paths) the tensor
// count, the wasm backend's buffer count and the wasm heap stay where they were after warm-up, and the
// process's RSS does not keep growing (oneDNN's primitive cache is built once per geometry; the margin allows
// for allocator noise, not for a per-call leak of ≥ 16 KB).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/select.js';
import { nativeBuilt, normal, run } from './support.js';

const CALLS = 2000;

describe.skipIf(!nativeBuilt)('native kernels: no leaks', () => {
  beforeAll(async () => {
    await initBackend('wasm', true);
  });

  it(`keeps tensors, wasm buffers, heap and RSS flat over ${CALLS} calls of each kernel`, () => {
    const x = normal([2, 12, 12, 20]);
    const filter = normal([5, 5, 20, 50]);
    const dy = normal([2, 8, 8, 50]);
    const a = normal([32, 300]);
    const b = normal([200, 300]);
    const odd = normal([1, 10, 10, 2]);
    const oddFilter = normal([3, 3, 2, 3]);
    const planes = normal([40, 24, 24, 1]);
    const pool = { filterSize: [2, 2], strides: [2, 2], pad: [[0, 0], [0, 0], [0, 0], [0, 0]] };
    const pooled = run('MaxPool', { x: planes }, pool);
    const pooledDiff = normal(pooled.shape);
    const blocked = tf.fill([1, 4, 4, 1], -Infinity);
    const blob = normal([4, 10, 9, 9]);
    const caffe = { kernel: [3, 3], stride: [2, 2], pad: [1, 1], output: [5, 5] }; // pad and CEIL overhang: AVE's padded copy
    const blobDiff = normal([4, 10, 5, 5]);
    const past = { kernel: [1, 1], stride: [3, 3], pad: [0, 0], output: [3, 3] }; // windows past the image: both fall back
    const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
    const step = () =>
      tf.tidy(() => {
        run('Conv2D', { x, filter }, conv);
        run('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: x.shape });
        run('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: filter.shape });
        run('BatchMatMul', { a, b }, { transposeA: false, transposeB: true });
        run('Conv2D', { x: odd, filter: oddFilter }, { ...conv, strides: [4, 4], pad: 1, dimRoundingMode: 'ceil' }); // falls back
        run('MaxPool', { x: planes }, pool);
        run('MaxPoolGrad', { dy: pooledDiff, input: planes, output: pooled }, pool);
        run('MaxPool', { x: blocked }, { ...pool, pad: 'valid' }); // falls back (windows of -inf)
        run('CaffeMaxPool', { x: blob }, caffe);
        run('CaffeAvgPool', { x: blob }, caffe);
        run('CaffeAvgPoolGrad', { dy: blobDiff }, { ...caffe, inputShape: blob.shape });
        const small = tf.slice(blob, [0, 0, 0, 0], [4, 10, 5, 5]);
        run('CaffeMaxPool', { x: small }, past);
        run('CaffeAvgPool', { x: small }, past);
      });
    const backend = tf.backend() as unknown as { numDataIds(): number; wasm: { HEAPU8: Uint8Array } };
    for (let i = 0; i < 50; i++) step();
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    const heap = backend.wasm.HEAPU8.length;
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < CALLS; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    expect(backend.wasm.HEAPU8.length).toBe(heap);
    expect(process.memoryUsage().rss - rss).toBeLessThan(CALLS * 16 * 1024);
    tf.dispose([x, filter, dy, a, b, odd, oddFilter, planes, pooled, pooledDiff, blocked, blob, blobDiff]);
  });
});
