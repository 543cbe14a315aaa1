// Training step (forward + backward + SGD momentum update, through kdnet's Solver) for LeNet b64, MLP
// 784-1200-1200-10 b100, CIFAR-10 quick b100 (../shared/fixtures/timing) and the distillation pair (frozen LeNet
// teacher forward + MLP 784-256-10 student step with a KnowledgeDistillation loss, one net composed by
// `kdnet distill init`: bench/distill-pair.ts), with the native kernels and on pure wasm in one process, beside
// the PyTorch peer (bench/torch_peer.py, system python3 + Debian's python3-torch) run in the same invocation:
// kdnet / PyTorch ratios, and each kernel set's GFLOP/s (bench/flops.ts: conv and InnerProduct only, backward
// ×2 except the first conv's missing input gradient and frozen layers) as a share of this machine's sgemm peak
// (1024³ matMul through tfjs, best of 10, measured in this run). Table on stdout, JSON + Markdown in
// bench/results/. The peer is skipped with a message when python3-torch is absent.
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
import { kernelSet, threadSetting } from '../dist/backend/native/kernel-set.js';
import { forEachKernelSet, machineInfo, markdownTable, median, warmUp, WARMUP, WARMUP_RULE, writeResults } from './peer-bench.js';
import { gflops, netFlops, sgemmPeak } from './flops.js';
import { PAIR, writeDistillPair } from './distill-pair.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TIMING_NETS = ['lenet_b64', 'mlp_784_1200_1200_10_b100', 'cifar10_quick_b100'];

interface StepTime {
  ms: number;
  /** FLOPs of one step (forward + backward, bench/flops.ts). */
  flops: number;
  warmup: number;
}

/** Median training-step time of one net (Solver.step(1): forward, backward, SGD momentum update). */
export async function kdnetStep(file: string, iterations: number): Promise<StepTime> {
  const { message } = loadNetFile(file);
  const solver = new Solver(newSolverParameter({ net_param: message, base_lr: 0.01, momentum: 0.9, lr_policy: 'fixed', max_iter: 1000000, display: 0, snapshot_after_train: false }));
  for (const input of solver.net.inputNames) {
    const shape = solver.net.blobShape(input)!;
    solver.net.setInput(input, input === 'label' ? tf.floor(tf.randomUniform(shape, 0, 10)) : tf.randomNormal(shape));
  }
  const { forward, backward } = netFlops(solver.net);
  const warmup = await warmUp(() => solver.step(1));
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await solver.step(1);
    times.push(performance.now() - t0);
  }
  solver.dispose();
  return { ms: median(times), flops: forward + backward, warmup };
}

/** bench/train-step-child.ts with KDNET_NATIVE=0: the pure-wasm steps on tfjs' threaded build. */
function pureWasmChild(nets: string[], iterations: number): { description: string; threads: number; peak: number; steps: Record<string, StepTime> } | { error: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'train-step-child.ts'), String(iterations), ...nets], {
    encoding: 'utf8',
    timeout: 1_800_000,
    env: { ...process.env, KDNET_NATIVE: '0' },
  });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').pop()! };
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

interface PeerResult {
  peer: string;
  error?: string;
  torch?: string;
  libblas?: string;
  openblas?: boolean;
  results?: Array<{ net: string; threads: number; train_step_ms: number; warmup: number }>;
}

/** PyTorch's medians, run as /work/shared/DEPENDENCIES.md says (passive OpenMP waits, large-malloc settings). */
function torchPeer(threads: number[], iterations: number): PeerResult {
  const python = '/usr/bin/python3';
  if (!fs.existsSync(python)) return { peer: 'pytorch', error: `${python} not found` };
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '1073741824' };
  const args = [path.join(here, 'torch_peer.py'), threads.join(','), String(iterations), String(WARMUP.seconds), String(WARMUP.iterations)];
  const r = spawnSync(python, args, { env, encoding: 'utf8', timeout: 900_000 });
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
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-bench-train-step-'));
  const files: Record<string, string> = Object.fromEntries(TIMING_NETS.map((n) => [n, path.join(timingDir, `${n}.prototxt`)]));
  files[PAIR.name] = writeDistillPair(timingDir, tmp);
  const nets = Object.keys(files);
  const kdnet: Record<string, Record<string, StepTime>> = {};
  const peaks: Record<string, number> = {};
  // In this process: the native kernels, then pure wasm on tfjs' single-threaded build (the native kernels
  // uninstalled). With the add-on and more than one thread, pure wasm as a user without the add-on runs it
  // (tfjs' threaded build) needs a process of its own.
  const wasmThreads = threadSetting().threads;
  const variantName = (v: string) => (v === 'wasm' ? `wasm ${set.native ? 1 : set.threads}T` : v);
  let threadedWasm: string | undefined;
  try {
    await forEachKernelSet(async (variant) => {
      const v = variantName(variant);
      peaks[v] = sgemmPeak();
      for (const name of nets) ((kdnet[v] ??= {})[name] = await kdnetStep(files[name]!, iterations));
    });
    if (set.native && wasmThreads > 1) {
      const child = pureWasmChild(nets.map((n) => `${n}=${files[n]}`), iterations);
      if ('error' in child) threadedWasm = `pure wasm on ${wasmThreads} threads not measured: ${child.error}`;
      else {
        const v = `wasm ${child.threads}T`;
        peaks[v] = child.peak;
        kdnet[v] = child.steps;
        threadedWasm = `${v}: ${child.description}`;
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const peak = Math.max(...Object.values(peaks));
  // PyTorch on 1 and on 2 threads: either can be the faster one on this machine (bench/README.md).
  const threads = [...new Set([1, Math.min(2, os.cpus().length)])];
  const peer = torchPeer(threads, iterations);

  const variants = Object.keys(kdnet);
  const torchMs = (net: string, t: number) => peer.results?.find((r) => r.net === net && r.threads === t)?.train_step_ms;
  const fmt = (v: number | undefined, d = 1) => (v === undefined ? '—' : v.toFixed(d));
  const rate = (s: StepTime) => gflops(s.flops, s.ms);
  const header = [
    'net',
    ...variants.map((v) => `kdnet ${v} ms`),
    ...threads.map((t) => `PyTorch ${t}T ms`),
    ...variants.flatMap((v) => threads.map((t) => `${v} / PyTorch ${t}T`)),
    'GFLOP / step',
    ...variants.map((v) => `${v} GFLOP/s (of peak)`),
  ];
  const rows = nets.map((net) => [
    net,
    ...variants.map((v) => fmt(kdnet[v]![net]!.ms)),
    ...threads.map((t) => fmt(torchMs(net, t))),
    ...variants.flatMap((v) => threads.map((t) => {
      const p = torchMs(net, t);
      return p === undefined ? '—' : `×${(kdnet[v]![net]!.ms / p).toFixed(2)}`;
    })),
    (kdnet[variants[0]!]![net]!.flops / 1e9).toFixed(3),
    ...variants.map((v) => `${rate(kdnet[v]![net]!).toFixed(1)} (${((100 * rate(kdnet[v]![net]!)) / peak).toFixed(0)} %)`),
  ]);
  const table = markdownTable(header, rows);
  const machine = machineInfo(loadBefore);
  const peakNote = `sgemm peak (1024³ float32 matMul through tfjs, ${set.threads} native thread(s), best of 10): ${variants.map((v) => `${v} ${peaks[v]!.toFixed(1)} GFLOP/s`).join(', ')}; shares are of ${peak.toFixed(1)}`;
  const result = {
    bench: 'train-step',
    date: new Date().toISOString(),
    machine,
    step: `Solver.step(1): forward + backward + SGD (lr 0.01, momentum 0.9); median of ${iterations} after a ${WARMUP_RULE}`,
    flops: 'Convolution 2·|top|·kh·kw·Cin/group and InnerProduct 2·M·N·K forward; backward the same once for the weight gradient (layers that learn) and once for the input gradient (bottoms that carry one): ×2, except the first conv and frozen teacher layers',
    distillPair: `${PAIR.name}: teacher lenet_b64 (frozen, lr_mult 0) + student models/fashion_mnist_kd MLP 784-256-10, KnowledgeDistillation T=${PAIR.temperature} weight ${1 - PAIR.alpha}, SoftmaxWithLoss weight ${PAIR.alpha}, one net by distill init`,
    backend: 'wasm',
    kernelSet: set.description,
    pureWasmThreaded: threadedWasm,
    threads: set.threads,
    sgemmPeakGflops: peaks,
    kdnet: Object.fromEntries(variants.map((v) => [v, Object.fromEntries(nets.map((n) => {
      const s = kdnet[v]![n]!;
      return [n, { ms: s.ms, warmupRuns: s.warmup, gflopPerStep: s.flops / 1e9, gflops: rate(s), shareOfPeak: rate(s) / peak }];
    }))])),
    peer,
  };
  console.log(`train-step (${set.description})`);
  console.log(table);
  if (threadedWasm) console.log(threadedWasm);
  console.log(peakNote);
  if (peer.error) console.log(`PyTorch peer skipped: ${peer.error}`);
  else if (!peer.openblas) console.log(`warning: libblas.so.3 is ${peer.libblas}, not OpenBLAS: PyTorch's Linear layers run the reference BLAS (apt-get install libopenblas0-pthread)`);
  console.log(`load average ${machine.loadAverageBefore.map((l) => l.toFixed(1)).join(' ')} before, ${machine.loadAverageAfter.map((l) => l.toFixed(1)).join(' ')} after (2 cores: anything above ~0.5 is another process)`);
  const md = `# Training step: kdnet vs PyTorch (${result.date})\n\n${table}\n\n- kernel set: ${set.description}${threadedWasm ? `\n- ${threadedWasm}` : ''}\n- ${peakNote}\n- FLOPs: ${result.flops}\n- distillation pair: ${result.distillPair}\n- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}\n- PyTorch: ${peer.error ?? `${peer.torch}, libblas ${peer.libblas}`}\n- load average ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfter.join(' ')} after\n- ${result.step}\n`;
  writeResults('train-step', result, md);
}
