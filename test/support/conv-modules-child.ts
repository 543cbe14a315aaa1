// Run by test/backend/conv-modules.test.ts in a child process with KDNET_NATIVE=0 OMP_NUM_THREADS=2: the
// convolution module checks on tfjs' threaded build, where kdnet's kernel workers share the heap. Prints one JSON line:
// the pool size, the results, and how many parts the workers ran while computing them.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { wasmThreading } from '../../src/backend/wasm-threads.js';
import { kernelWorkerCalls } from '../../src/backend/kernels/heap-threads.js';
import { convResults, filterGradResults, gemmResults } from './conv-module-checks.js';

await initBackend('wasm', true);
// A worker starts in the background on first use: run a gradient big enough to share until it takes part.
const x = tf.randomNormal([16, 16, 16, 8]);
const dy = tf.randomNormal([16, 16, 16, 16]);
for (let i = 0; i < 50 && kernelWorkerCalls() === 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  tf.dispose(tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] } as never));
}
const before = kernelWorkerCalls();
const results = [...filterGradResults(), ...convResults(), ...gemmResults()];
console.log(JSON.stringify({ threads: wasmThreading()?.threads ?? 1, results, workerCalls: kernelWorkerCalls() - before }));
process.exit(0);
