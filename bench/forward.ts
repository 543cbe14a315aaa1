// Forward-only time of LeNet and CIFAR-10 quick (../shared/fixtures/timing, loss layers dropped) at batch 1 and
// 64, kdnet with the native kernels and on pure wasm in one process, beside OpenCV's dnn module (bench/
// opencv_peer.py, Debian's python3-opencv) reading the same deploy prototxt and .caffemodel kdnet wrote, on the
// same random input; the outputs are compared so the peers compute the same thing. Table on stdout, JSON +
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
import { forEachKernelSet, machineInfo, markdownTable, median, writeResults } from './peer-bench.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NETS = [
  { name: 'lenet', file: 'lenet_b64.prototxt' },
  { name: 'cifar10_quick', file: 'cifar10_quick_b100.prototxt' },
];
const BATCHES = [1, 64];
const WARMUP = 5;

/** The net without its label input and loss layers, its data Input at batch `n`. */
function deployText(file: string, n: number): string {
  const net = loadNetFile(file).message;
  net.layer = net.layer.filter((l: { type: string; top: string[] }) => !['SoftmaxWithLoss', 'Accuracy'].includes(l.type) && !(l.type === 'Input' && l.top[0] === 'label'));
  const input = net.layer.find((l: { type: string }) => l.type === 'Input');
  input.input_param.shape[0].dim[0] = n;
  return printCaffeText(net, 'NetParameter');
}

interface Case {
  net: string;
  batch: number;
  kdnet: Record<string, number>;
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
  const cases: Case[] = [];
  let peerError: string | undefined;
  let opencvVersion: string | undefined;
  for (const { name, file } of NETS) {
    for (const batch of BATCHES) {
      const deploy = path.join(tmp, `${name}_b${batch}.prototxt`);
      fs.writeFileSync(deploy, deployText(path.join(timingDir, file), batch));
      const net = new Net(loadNetFile(deploy).message, { phase: Phase.TEST, seed: 1 });
      const weights = path.join(tmp, `${name}.caffemodel`);
      writeCaffemodel(net, weights);
      const input = net.inputNames[0]!;
      const x = tf.randomNormal(net.blobShape(input)!, 0, 1, 'float32', 7);
      const xData = x.dataSync() as Float32Array;
      const inputNpy = path.join(tmp, `${name}_b${batch}.npy`);
      fs.writeFileSync(inputNpy, encodeNpy(xData, net.blobShape(input)!));
      net.setInput(input, x);
      const out = net.outputNames()[0]!;
      const c: Case = { net: name, batch, kdnet: {} };
      let kdnetOutput: number[] = [];
      await forEachKernelSet(async (variant) => {
        const times: number[] = [];
        for (let i = 0; i < WARMUP + iterations; i++) {
          const t0 = performance.now();
          net.forward();
          const y = net.blob(out).dataSync();
          if (i >= WARMUP) times.push(performance.now() - t0);
          if (i === 0 && variant !== 'wasm') kdnetOutput = Array.from(y.subarray(0, 64));
        }
        c.kdnet[variant] = median(times);
      });
      net.dispose();
      const r = spawnSync('/usr/bin/python3', [path.join(here, 'opencv_peer.py'), deploy, weights, net.blobShape(input)!.join(','), String(iterations), String(set.threads), inputNpy], { encoding: 'utf8', timeout: 600_000 });
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
  const fmt = (v: number | undefined, d = 2) => (v === undefined ? '—' : v.toFixed(d));
  const header = ['net', 'batch', ...variants.map((v) => `kdnet ${v} ms`), 'OpenCV ms', ...variants.map((v) => `${v} / OpenCV`), 'max |Δ| output'];
  const rows = cases.map((c) => [c.net, String(c.batch), ...variants.map((v) => fmt(c.kdnet[v])), fmt(c.opencv), ...variants.map((v) => (c.opencv ? `×${(c.kdnet[v]! / c.opencv).toFixed(2)}` : '—')), c.maxAbsDiff === undefined ? '—' : c.maxAbsDiff.toExponential(1)]);
  const table = markdownTable(header, rows);
  const machine = machineInfo(loadBefore);
  console.log(`forward (${set.description})`);
  console.log(table);
  if (peerError) console.log(`OpenCV peer skipped: ${peerError}`);
  const result = { bench: 'forward', date: new Date().toISOString(), machine, backend: 'wasm', kernelSet: set.description, threads: set.threads, opencv: opencvVersion ?? null, peerError: peerError ?? null, forward: `net.forward() + reading the output; median of ${iterations} after ${WARMUP} warm-up`, cases };
  writeResults('forward', result, `# Forward: kdnet vs OpenCV dnn (${result.date})\n\n${table}\n\n- kernel set: ${set.description}\n- OpenCV: ${opencvVersion ?? peerError}, ${set.threads} thread(s)\n- machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n- load average ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfter.join(' ')} after\n- ${result.forward}\n`);
}
