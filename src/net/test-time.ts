// `kdnet test` (mean of each output over N batches, as `caffe test`) and `kdnet time` (per-layer forward and
// backward milliseconds, as `caffe time`) as library calls that log Caffe's lines.
import path from 'node:path';
import { loadNetFile } from '../proto/load.js';
import { filterNet, Phase } from './net-state.js';
import { Net, topShapeLine } from './net.js';
import { loadWeightsInto } from '../proto/weights.js';
import { log } from '../log.js';
import { formatCaffeNumber as n } from '../solvers/format.js';
import type { Shape } from '../layers/layer.js';
import type { SizeLimits } from './size-limits.js';

export interface NetRunOptions {
  model: string;
  weights?: string[];
  iterations: number;
  stage?: string[];
  level?: number;
  /** `time` only: the phase to time (Caffe's -phase; default TRAIN). `test` always runs TEST. */
  phase?: number;
  /** Shapes replacing the declared shapes of Input blobs (the net is reshaped to them). */
  inputShapes?: Record<string, Shape>;
  sizeLimits?: Partial<SizeLimits>;
  /** Folders searched for the JavaScript ports of Python layers; call loadJsLayersOfNetFile first for ES modules. */
  layersPath?: string[];
}

function buildNet(o: NetRunOptions, phase: number): Net {
  const { message } = loadNetFile(o.model);
  const net = new Net(filterNet(message, { phase, level: o.level ?? 0, stage: o.stage ?? [] }), {
    phase,
    baseDir: path.dirname(o.model),
    sizeLimits: o.sizeLimits,
    layersPath: o.layersPath,
  });
  try {
    if (o.weights?.length) loadWeightsInto(net, o.weights);
    // Input blobs start as zeros (as Caffe's freshly allocated blobs do), of the given shapes if any.
    const given = Object.entries(o.inputShapes ?? {});
    for (const [name, shape] of given) net.setInputShape(name, shape);
    if (given.length) {
      net.reshape();
      logTopShapes(net);
    }
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}

/** Caffe's set-up lines, for the shapes the net was reshaped to. */
function logTopShapes(net: Net): void {
  for (const l of net.layerTopShapes()) {
    log.info(`Setting up ${l.layer}`);
    for (const t of l.tops) log.info(topShapeLine(t.shape));
  }
}

export function testNet(o: NetRunOptions): Array<{ name: string; mean: number; weight: number }> {
  const net = buildNet(o, Phase.TEST);
  try {
    log.info(`Running for ${o.iterations} iterations.`);
    const weights = new Map(net.lossTops().map((t) => [t.blob, t.weight]));
    const scores: Array<{ name: string; sum: number; weight: number }> = [];
    let loss = 0;
    for (let i = 0; i < o.iterations; i++) {
      loss += net.forward();
      let idx = 0;
      for (const name of net.outputNames()) {
        for (const v of net.blob(name).dataSync()) {
          if (i === 0) scores.push({ name, sum: v, weight: weights.get(name) ?? 0 });
          else scores[idx]!.sum += v;
          idx++;
          log.info(`Batch ${i}, ${name} = ${n(v)}`);
        }
      }
    }
    log.info(`Loss: ${n(loss / o.iterations)}`);
    return scores.map((s) => {
      const mean = s.sum / o.iterations;
      log.info(`${s.name} = ${n(mean)}${s.weight ? ` (* ${n(s.weight)} = ${n(s.weight * mean)} loss)` : ''}`);
      return { name: s.name, mean, weight: s.weight };
    });
  } finally {
    net.dispose();
  }
}

/** Per-layer times; `backward` says whether the layer's backward ran at all (Caffe's need-backward rules skip
 * layers no loss gradient reaches, such as a frozen teacher: those show 0 ms). */
export function timeNet(o: NetRunOptions): { forwardMs: number; backwardMs: number; layers: Array<{ name: string; forwardMs: number; backwardMs: number; backward: boolean }> } {
  const net = buildNet(o, o.phase ?? Phase.TRAIN);
  try {
    log.info('Performing Forward');
    log.info(`Initial loss: ${n(net.forward())}`);
    log.info('Performing Backward');
    net.backward();
    net.clearParamDiffs();
    log.info('*** Benchmark begins ***');
    log.info(`Testing for ${o.iterations} iterations.`);
    net.profile = { forward: new Map(), backward: new Map() };
    let forwardMs = 0;
    let backwardMs = 0;
    const total0 = performance.now();
    for (let j = 0; j < o.iterations; j++) {
      const it0 = performance.now();
      const f0 = performance.now();
      net.forward();
      forwardMs += performance.now() - f0;
      const b0 = performance.now();
      net.backward();
      net.clearParamDiffs();
      backwardMs += performance.now() - b0;
      log.info(`Iteration: ${j + 1} forward-backward time: ${Math.round(performance.now() - it0)} ms.`);
    }
    const total = performance.now() - total0;
    log.info('Average time per layer: ');
    const layers = net.layerNames().map((name) => ({
      name,
      forwardMs: (net.profile!.forward.get(name) ?? 0) / o.iterations,
      backwardMs: (net.profile!.backward.get(name) ?? 0) / o.iterations,
      backward: net.profile!.backward.has(name),
    }));
    for (const l of layers) {
      log.info(`${l.name.padStart(10)}\tforward: ${n(l.forwardMs)} ms.`);
      log.info(`${l.name.padStart(10)}\tbackward: ${n(l.backwardMs)} ms.`);
    }
    log.info(`Average Forward pass: ${n(forwardMs / o.iterations)} ms.`);
    log.info(`Average Backward pass: ${n(backwardMs / o.iterations)} ms.`);
    log.info(`Average Forward-Backward: ${n(total / o.iterations)} ms.`);
    log.info(`Total Time: ${n(total)} ms.`);
    log.info('*** Benchmark ends ***');
    return { forwardMs: forwardMs / o.iterations, backwardMs: backwardMs / o.iterations, layers };
  } finally {
    net.dispose();
  }
}
