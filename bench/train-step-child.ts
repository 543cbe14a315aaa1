// The train-step bench's pure-wasm kernel set in a process of its own, started by bench/train-step.ts with
// KDNET_NATIVE=0: tfjs chooses its wasm build (threaded or single-threaded) once per process, so the threaded
// build a user without the native add-on gets cannot be timed in the process that has the native kernels.
// `node --import tsx bench/train-step-child.ts ITERATIONS NAME=FILE...`; prints one JSON line.
import { initBackend } from '../dist/backend/select.js';
import { kernelSet } from '../dist/backend/native/kernel-set.js';
import { setLogSink } from '../dist/log.js';
import { sgemmPeak } from './flops.js';
import { kdnetStep } from './train-step.js';

setLogSink(() => {});
await initBackend('wasm', true);
const [iterations, ...nets] = process.argv.slice(2);
const set = kernelSet();
const peak = sgemmPeak();
const steps: Record<string, Awaited<ReturnType<typeof kdnetStep>>> = {};
for (const entry of nets) {
  const at = entry.indexOf('=');
  steps[entry.slice(0, at)] = await kdnetStep(entry.slice(at + 1), Number(iterations));
}
console.log(JSON.stringify({ description: set.description, threads: set.threads, peak, steps }));
