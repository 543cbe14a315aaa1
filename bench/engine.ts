// Forward and forward+backward time per backend for LeNet (batch 64), MLP 784-1200-1200-10 (batch 100) and
// CIFAR-10 quick (batch 100) — the nets `caffe time` was run on for ../shared/fixtures/timing, whose medians
// are printed beside kdnet's for a ratio in the same run.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { loadNetFile } from '../dist/proto/load.js';
import { filterNet, Phase } from '../dist/net/net-state.js';
import { Net } from '../dist/net/net.js';
import { setLogSink } from '../dist/log.js';
import { nativeKernels } from '../dist/backend/native/kernel-set.js';
import { median } from './peer-bench.js';

const NETS = ['lenet_b64', 'mlp_784_1200_1200_10_b100', 'cifar10_quick_b100'];


function caffeMedians(timingDir: string): Map<string, { fwd: number; fwdBwd: number }> {
  const out = new Map<string, { fwd: number; fwdBwd: number }>();
  const file = path.join(timingDir, 'results.json');
  if (!fs.existsSync(file)) return out;
  const results = JSON.parse(fs.readFileSync(file, 'utf8')).results as Array<{ net: string; fwd_ms: number; fwd_bwd_ms: number; openblas_threads: number }>;
  for (const name of NETS) {
    const rs = results.filter((r) => r.net === name && r.openblas_threads === 1);
    if (rs.length) out.set(name, { fwd: median(rs.map((r) => r.fwd_ms)), fwdBwd: median(rs.map((r) => r.fwd_bwd_ms)) });
  }
  return out;
}

export async function benchEngine(timingDir: string, backends: string[], defaultIterations = 10): Promise<void> {
  if (!fs.existsSync(timingDir)) {
    console.log('engine: ../shared/fixtures/timing not found, skipped');
    return;
  }
  setLogSink(() => {});
  const caffe = caffeMedians(timingDir);
  for (const backend of backends) {
    try {
      await initBackend(backend, true);
    } catch {
      console.log(`engine: backend ${backend} not available, skipped`);
      continue;
    }
    // tfjs' pure-JS cpu backend is ~100× slower on convolutions: fewer timed iterations there.
    const iterations = backend === 'cpu' ? 2 : defaultIterations;
    // On wasm with the native add-on: both kernel sets in the same run (native kernels taken out for the second).
    const native = nativeKernels().filter((k) => k.installed);
    const variants = backend === 'wasm' && native.length ? ['wasm+native', 'wasm'] : [backend];
    for (const label of variants) {
      for (const k of native) (label === 'wasm' ? k.uninstall() : k.install());
      await timeNets(label, caffe, timingDir, iterations);
    }
    for (const k of native) k.install();
  }
}

async function timeNets(label: string, caffe: Map<string, { fwd: number; fwdBwd: number }>, timingDir: string, iterations: number): Promise<void> {
  {
    for (const name of NETS) {
      const { message } = loadNetFile(path.join(timingDir, `${name}.prototxt`));
      const net = new Net(filterNet(message, { phase: Phase.TRAIN, level: 0, stage: [] }), { phase: Phase.TRAIN });
      const feed = () => {
        for (const input of net.inputNames) {
          const shape = net.blobShape(input)!;
          net.setInput(input, input === 'label' ? tf.floor(tf.randomUniform(shape, 0, 10)) : tf.randomNormal(shape));
        }
      };
      feed();
      for (let i = 0; i < 2; i++) {
        net.forward();
        net.backward();
      }
      const fwd: number[] = [];
      const both: number[] = [];
      const tensorsBefore = tf.memory().numTensors;
      for (let i = 0; i < iterations; i++) {
        let t0 = performance.now();
        net.forward();
        fwd.push(performance.now() - t0);
        t0 = performance.now();
        net.forward();
        net.backward();
        net.clearParamDiffs();
        both.push(performance.now() - t0);
      }
      const leak = tf.memory().numTensors - tensorsBefore;
      const c = caffe.get(name);
      const f = median(fwd);
      const b = median(both);
      console.log(
        `${label.padEnd(12)} ${name.padEnd(28)} forward ${f.toFixed(1).padStart(8)} ms   forward+backward ${b.toFixed(1).padStart(8)} ms` +
          (c ? `   (caffe CPU: ${c.fwd.toFixed(1)} / ${c.fwdBwd.toFixed(1)} ms → ×${(b / c.fwdBwd).toFixed(1)})` : '') +
          (leak > 0 ? `   LEAK: ${leak} tensors` : ''),
      );
      net.dispose();
    }
  }
}
