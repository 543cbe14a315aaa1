// The training run bench/train-memory.ts measures, in a plain `node` process: under tsx (how the benches run)
// the loader alone adds ≈ 360 MB of RSS, which is not kdnet's. Plain JavaScript on dist/ for that reason.
// usage: node bench/train-memory-child.mjs NET_PROTOTXT_TEXT ITERATIONS WARMUP SAMPLE_EVERY   (prints JSON)
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { kernelSet } from '../dist/backend/native/kernel-set.js';
import { parseCaffeText } from '../dist/proto/text.js';
import { Solver } from '../dist/solvers/solver.js';
import { setLogSink } from '../dist/log.js';

const [net, iterations, warmup, every] = [process.argv[2], ...process.argv.slice(3, 6).map(Number)];
const vmHwm = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;

await initBackend('wasm', true);
setLogSink(() => {});
const solver = new Solver(
  parseCaffeText(`net_param { ${net} }\nbase_lr: 0.01\nmomentum: 0.9\nweight_decay: 0.0005\nlr_policy: "inv"\ngamma: 0.0001\npower: 0.75\nmax_iter: ${iterations}\ndisplay: 0`, 'SolverParameter').message,
);
solver.net.setInput('data', tf.randomUniform([64, 1, 28, 28]));
solver.net.setInput('label', tf.floor(tf.randomUniform([64], 0, 10)));
await solver.step(warmup);
const tensors = [tf.memory().numTensors];
const rss = [[warmup, process.memoryUsage().rss]];
const start = performance.now();
for (let done = warmup; done < iterations; ) {
  const n = Math.min(every, iterations - done);
  await solver.step(n);
  done += n;
  rss.push([done, process.memoryUsage().rss]);
}
const seconds = (performance.now() - start) / 1000;
tensors.push(tf.memory().numTensors);
solver.dispose();
console.log(JSON.stringify({ kernels: kernelSet().description, iterPerSecond: (iterations - warmup) / seconds, tensors, rss, vmHwm: vmHwm() }));
