// Run by test/backend/wasm-simd-kernels.test.ts in a child process with KDNET_NATIVE=0 OMP_NUM_THREADS=2:
// the wasm SIMD kernel checks on tfjs' threaded build. Prints one JSON line: the pool size, whether the heap
// is shared, whether the modules instantiated over it, and the mismatches.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { wasmThreading } from '../../src/backend/wasm-threads.js';
import { heapModule, wasmHeapOf } from '../../src/backend/kernels/wasm-heap.js';
import { poolGradModuleBytes } from '../../src/backend/kernels/max-pool-grad-module.js';
import { transposeModuleBytes } from '../../src/backend/kernels/transpose-module.js';
import { transposeWasm } from '../../src/backend/kernels/transpose.js';
import { avgPoolGradModuleBytes } from '../../src/backend/kernels/avg-pool-grad-module.js';
import { avgPoolModuleBytes } from '../../src/backend/kernels/avg-pool-module.js';
import { avePoolGradMismatches, avePoolMismatches, poolGradMismatches, transposeMismatches } from './wasm-kernel-checks.js';

await initBackend('wasm', true);
const heap = wasmHeapOf(tf.backend());
const builds = { 'max-pool-grad': poolGradModuleBytes, transpose: transposeModuleBytes, 'avg-pool': avgPoolModuleBytes, 'avg-pool-grad': avgPoolGradModuleBytes };
const modules = Object.entries(builds).every(([name, bytes]) => heapModule(tf.backend(), name, bytes) !== undefined);
const mismatches = [...poolGradMismatches(), ...avePoolMismatches(), ...avePoolGradMismatches(), ...transposeMismatches(transposeWasm.original!)];
console.log(JSON.stringify({ threads: wasmThreading()?.threads ?? 1, shared: heap?.memory.buffer instanceof SharedArrayBuffer, modules, mismatches }));
process.exit(0);
