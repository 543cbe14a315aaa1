// Forward-only time of LeNet, CIFAR-10 quick (../shared/fixtures/timing, loss layers dropped) and the
// distillation pair (bench/distill-pair.ts: teacher + student from one input, both outputs computed) at batch 1
// and 64, kdnet with the native kernels and on pure wasm in one process, beside OpenCV's dnn module (bench/
// opencv_peer.py, Debian's python3-opencv) reading the same deploy prototxt and .caffemodel kdnet wrote, on the
// same random input; the (first) outputs are compared so the peers compute the same thing. GFLOP/s of each
// kernel set (bench/flops.ts) against this machine's sgemm peak measured in the run. Table on stdout, JSON +
// Markdown in bench/results/. The peer is skipped with a message when python3-opencv is absent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { loadNetFile } from '../dist/proto/load.js';
import { printCaffeText } from '../dist/proto/text.js';
import { Net } from '../dist/net/net.js';
import { Phase } from '../dist/net/net-state.js';
import { writeCaffemodel } from '../dist/proto/weights.js';
import { encodeNpy } from '../dist/util/npy.js';
import { setLogSink } from '../dist/log.js';
import { kernelSet } from '../dist/backend/native/kernel-set.js';
import { forEachKernelSet, machineInfo, markdownTable, median, warmUp, WARMUP, WARMUP_RULE, writeResults } from './peer-bench.js';
import { gflops, netFlops, sgemmPeak } from './flops.js';
import { PAIR, writeDistillPair } from './distill-pair.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BATCHES = [1, 64];
const isLossOrMetric = (type: string) => /Loss$/.test(type) || ['Accuracy', 'KnowledgeDistillation'].includes(type);

/** The net without its label input and loss layers, its data Input at batch `n`. */
function deployText(file: string, n: number): string {
  const net = loadNetFile(file).message;
  net.layer = net.layer.filter((l: { type: string; top: string[] }) => !isLossOrMetric(l.type) && !(l.type === 'Input' && l.top[0] === 'label'));
  const input = net.layer.find((l: { type: string }) => l.type === 'Input');
  input.input_param.shape[0].dim[0] = n;
  return printCaffeText(net, 'NetParameter');
}

interface Case {
  net: string;
  batch: number;
  kdnet: Record<string, number>;
  /** FLOPs of one forward (bench/flops.ts). */
  flops: number;
  opencv?: number;
  maxAbsDiff?: number;
}

export async function benchForward(timingDir: string, iterations = 30): Promise<void> {
  if (!fs.existsSync(timingDir)) {
    console.log('forward: ../shared/fixtures/timing not found, skipped');
    return;
  }
  setLogSink(() => {});
  const loadBefore = os.loadavg();
  await initBackend('wasm', true);
  const set = kernelSet();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-bench-forward-'));
  const nets = [
    { name: 'lenet', file: path.join(timingDir, 'lenet_b64.prototxt') },
    { name: 'cifar10_quick', file: path.join(timingDir, 'cifar10_quick_b100.prototxt') },
    { name: PAIR.name.replace(/_b\d+$/, ''), file: writeDistillPair(timingDir, tmp) },
  ];
  const cases: Case[] = [];
  const peaks: Record<string, number> = {};
  let peerError: string | undefined;
  let opencvVersion: string | undefined;
  for (const { name, file } of nets) {
    for (const batch of BATCHES) {
      const deploy = path.join(tmp, `${name}_b${batch}.prototxt`);
      fs.writeFileSync(deploy, deployText(file, batch));
      const net = new Net(loadNetFile(deploy).message, { phase: Phase.TEST, seed: 1 });
      const weights = path.join(tmp, `${name}.caffemodel`);
      writeCaffemodel(net, weights);
      const input = net.inputNames[0]!;
      const x = tf.randomNormal(net.blobShape(input)!, 0, 1, 'float32', 7);
      const xData = x.dataSync() as Float32Array;
      const inputNpy = path.join(tmp, `${name}_b${batch}.npy`);
      fs.writeFileSync(inputNpy, encodeNpy(xData, net.blobShape(input)!));
      net.setInput(input, x);
      // Every output is read (the pair has two: teacher and student logits), as OpenCV is asked for all of them.
      const outputs = net.outputNames();
      const c: Case = { net: name, batch, kdnet: {}, flops: netFlops(net).forward };
      let kdnetOutput: number[] = [];
      const run = () => {
        net.forward();
        return outputs.map((o) => net.blob(o).dataSync());
      };
      await forEachKernelSet(async (variant) => {
        peaks[variant] ??= sgemmPeak();
        const y = run()[0]!;
        if (variant !== 'wasm') kdnetOutput = Array.from(y.subarray(0, 64));
        await warmUp(run);
        const times: number[] = [];
        for (let i = 0; i < iterations; i++) {
          const t0 = performance.now();
          run();
          times.push(performance.now() - t0);
        }
        c.kdnet[variant] = median(times);
      });
      const shape = net.blobShape(input)!;
      net.dispose();
      const args = [path.join(here, 'opencv_peer.py'), deploy, weights, shape.join(','), String(iterations), String(set.threads), inputNpy, String(WARMUP.seconds), String(WARMUP.iterations)];
      if (outputs.length > 1) args.push(outputs.join(','));
      const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', timeout: 600_000 });
      const peer = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').pop() };
      if (peer.error) peerError = peer.error;
      else {
        opencvVersion = peer.opencv;
        c.opencv = peer.forward_ms;
        if (kdnetOutput.length) c.maxAbsDiff = Math.max(...kdnetOutput.map((v, i) => Math.abs(v - peer.output[i])));
      }
      cases.push(c);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const variants = Object.keys(cases[0]!.kdnet);
  const peak = Math.max(...Object.values(peaks));
  const fmt = (v: number | undefined, d = 2) => (v === undefined ? '—' : v.toFixed(d));
  const rate = (c: Case, v: string) => gflops(c.flops, c.kdnet[v]!);
  const header = ['net', 'batch', ...variants.map((v) => `kdnet ${v} ms`), 'OpenCV ms', ...variants.map((v) => `${v} / OpenCV`), 'max |Δ| output', 'MFLOP', ...variants.map((v) => `${v} GFLOP/s (of peak)`)];
  const rows = cases.map((c) => [
    c.net,
    String(c.batch),
    ...variants.map((v) => fmt(c.kdnet[v])),
    fmt(c.opencv),
    ...variants.map((v) => (c.opencv ? `×${(c.kdnet[v]! / c.opencv).toFixed(2)}` : '—')),
    c.maxAbsDiff === undefined ? '—' : c.maxAbsDiff.toExponential(1),
    (c.flops / 1e6).toFixed(1),
    ...variants.map((v) => `${rate(c, v).toFixed(1)} (${((100 * rate(c, v)) / peak).toFixed(0)} %)`),
  ]);
  const table = markdownTable(header, rows);
  const machine = machineInfo(loadBefore);
  const peakNote = `sgemm peak (1024³ float32 matMul through tfjs, ${set.threads} native thread(s), best of 10): ${variants.map((v) => `${v} ${peaks[v]!.toFixed(1)} GFLOP/s`).join(', ')}; shares are of ${peak.toFixed(1)}`;
  console.log(`forward (${set.description})`);
  console.log(table);
  console.log(peakNote);
  if (peerError) console.log(`OpenCV peer skipped: ${peerError}`);
  console.log(`load average ${machine.loadAverageBefore.map((l) => l.toFixed(1)).join(' ')} before, ${machine.loadAverageAfter.map((l) => l.toFixed(1)).join(' ')} after (2 cores: anything above ~0.5 is another process)`);
  const result = {
    bench: 'forward',
    date: new Date().toISOString(),
    machine,
    backend: 'wasm',
    kernelSet: set.description,
    threads: set.threads,
    opencv: opencvVersion ?? null,
    peerError: peerError ?? null,
    forward: `net.forward() + reading every output; median of ${iterations} after a ${WARMUP_RULE}`,
    flops: 'Convolution 2·|top|·kh·kw·Cin/group, InnerProduct 2·M·N·K (other layers not counted)',
    sgemmPeakGflops: peaks,
    cases: cases.map((c) => ({ ...c, gflops: Object.fromEntries(variants.map((v) => [v, rate(c, v)])), shareOfPeak: Object.fromEntries(variants.map((v) => [v, rate(c, v) / peak])) })),
  };
  writeResults('forward', result, `# Forward: kdnet vs OpenCV dnn (${result.date})\n\n${table}\n\n- kernel set: ${set.description}\n- OpenCV: ${opencvVersion ?? peerError}, ${set.threads} thread(s)\n- ${peakNote}\n- FLOPs: ${result.flops}\n- distillation pair: teacher + student deploy branches of ${PAIR.name} (bench/distill-pair.ts) on one input, both outputs read\n- machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n- load average ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfter.join(' ')} after\n- ${result.forward}\n`);
}
