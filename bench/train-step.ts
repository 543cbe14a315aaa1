// Training step (forward + backward + SGD momentum update, through kdnet's Solver) for LeNet b64, MLP
// 784-1200-1200-10 b100 and CIFAR-10 quick b100 (../shared/fixtures/timing), with the native kernels and on
// pure wasm in one process, beside the PyTorch peer (bench/torch_peer.py, system python3 + Debian's
// python3-torch) run in the same invocation: kdnet / PyTorch ratios, as a table on stdout and as JSON +
// Markdown in bench/results/. The peer is skipped with a message when python3-torch is absent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { loadNetFile } from '../dist/proto/load.js';
import { Solver, newSolverParameter } from '../dist/solvers/solver.js';
import { setLogSink } from '../dist/log.js';
import { kernelSet } from '../dist/backend/native/kernel-set.js';
import { forEachKernelSet, machineInfo, markdownTable, median, writeResults } from './peer-bench.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NETS = ['lenet_b64', 'mlp_784_1200_1200_10_b100', 'cifar10_quick_b100'];
const WARMUP = 5;

/** Median training-step time of one net in ms (Solver.step(1): forward, backward, SGD momentum update). */
async function kdnetStep(timingDir: string, name: string, iterations: number): Promise<number> {
  const { message } = loadNetFile(path.join(timingDir, `${name}.prototxt`));
  const solver = new Solver(newSolverParameter({ net_param: message, base_lr: 0.01, momentum: 0.9, lr_policy: 'fixed', max_iter: 1000000, display: 0, snapshot_after_train: false }));
  for (const input of solver.net.inputNames) {
    const shape = solver.net.blobShape(input)!;
    solver.net.setInput(input, input === 'label' ? tf.floor(tf.randomUniform(shape, 0, 10)) : tf.randomNormal(shape));
  }
  await solver.step(WARMUP);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await solver.step(1);
    times.push(performance.now() - t0);
  }
  solver.dispose();
  return median(times);
}

interface PeerResult {
  peer: string;
  error?: string;
  torch?: string;
  libblas?: string;
  openblas?: boolean;
  results?: Array<{ net: string; threads: number; train_step_ms: number }>;
}

/** PyTorch's medians, run as /work/shared/DEPENDENCIES.md says (passive OpenMP waits, large-malloc settings). */
function torchPeer(threads: number[], iterations: number): PeerResult {
  const python = '/usr/bin/python3';
  if (!fs.existsSync(python)) return { peer: 'pytorch', error: `${python} not found` };
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '1073741824' };
  const r = spawnSync(python, [path.join(here, 'torch_peer.py'), threads.join(','), String(iterations)], { env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { peer: 'pytorch', error: `torch_peer.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerResult;
}

export async function benchTrainStep(timingDir: string, iterations = 30): Promise<void> {
  if (!fs.existsSync(timingDir)) {
    console.log('train-step: ../shared/fixtures/timing not found, skipped');
    return;
  }
  setLogSink(() => {});
  const loadBefore = os.loadavg();
  await initBackend('wasm', true);
  const set = kernelSet();
  const kdnet: Record<string, Record<string, number>> = {};
  await forEachKernelSet(async (variant) => {
    for (const name of NETS) ((kdnet[variant] ??= {})[name] = await kdnetStep(timingDir, name, iterations));
  });
  const threads = [...new Set([set.threads, Math.min(2, os.cpus().length)])].sort();
  const peer = torchPeer(threads, iterations);

  const torchMs = (net: string, t: number) => peer.results?.find((r) => r.net === net && r.threads === t)?.train_step_ms;
  const fmt = (v: number | undefined, d = 1) => (v === undefined ? '—' : v.toFixed(d));
  const header = ['net', ...Object.keys(kdnet).map((v) => `kdnet ${v} ms`), ...threads.map((t) => `PyTorch ${t}T ms`), ...Object.keys(kdnet).flatMap((v) => threads.map((t) => `${v} / PyTorch ${t}T`))];
  const rows = NETS.map((net) => [
    net,
    ...Object.keys(kdnet).map((v) => fmt(kdnet[v]![net])),
    ...threads.map((t) => fmt(torchMs(net, t))),
    ...Object.keys(kdnet).flatMap((v) => threads.map((t) => {
      const p = torchMs(net, t);
      return p === undefined ? '—' : `×${(kdnet[v]![net]! / p).toFixed(2)}`;
    })),
  ]);
  const table = markdownTable(header, rows);
  const machine = machineInfo(loadBefore);
  const result = {
    bench: 'train-step',
    date: new Date().toISOString(),
    machine,
    step: `Solver.step(1): forward + backward + SGD (lr 0.01, momentum 0.9); median of ${iterations} after ${WARMUP} warm-up`,
    backend: 'wasm',
    kernelSet: set.description,
    threads: set.threads,
    kdnet,
    peer,
  };
  console.log(`train-step (${set.description})`);
  console.log(table);
  if (peer.error) console.log(`PyTorch peer skipped: ${peer.error}`);
  else if (!peer.openblas) console.log(`warning: libblas.so.3 is ${peer.libblas}, not OpenBLAS: PyTorch's Linear layers run the reference BLAS (apt-get install libopenblas0-pthread)`);
  console.log(`load average ${machine.loadAverageBefore.map((l) => l.toFixed(1)).join(' ')} before, ${machine.loadAverageAfter.map((l) => l.toFixed(1)).join(' ')} after (2 cores: anything above ~0.5 is another process)`);
  const md = `# Training step: kdnet vs PyTorch (${result.date})\n\n${table}\n\n- kernel set: ${set.description}\n- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}\n- PyTorch: ${peer.error ?? `${peer.torch}, libblas ${peer.libblas}`}\n- load average ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfter.join(' ')} after\n- ${result.step}\n`;
  writeResults('train-step', result, md);
}
