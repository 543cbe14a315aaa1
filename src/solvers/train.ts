// `kdnet train` as a library call: solver file → Solver (+ weights or snapshot) → Solve, with signals,
// JSON event log and progress reporting hooks.
import fs from 'node:fs';
import path from 'node:path';
import { loadSolverFile } from '../proto/load.js';
import { Solver, type DisplayEvent, type TestEvent } from './solver.js';
import { installSignalHandlers, type SignalEffect } from './signals.js';
import { KdnetError } from '../errors.js';
import { loadSolverJsLayers } from './net-sources.js';
import { log } from '../log.js';

export interface TrainOptions {
  solver: string;
  weights?: string[];
  snapshot?: string;
  stage?: string[];
  level?: number;
  iterations?: number;
  sigintEffect?: SignalEffect;
  sighupEffect?: SignalEffect;
  logJson?: string;
  onProgress?: (iter: number, maxIter: number) => void;
  /** Folders searched for the JavaScript ports of Python layers (--layers-path). */
  layersPath?: string[];
}

export async function train(o: TrainOptions): Promise<Solver> {
  if (o.weights?.length && o.snapshot) throw new KdnetError('give either --weights or --snapshot, not both (Caffe: "Give a snapshot to resume training or weights to finetune but not both")');
  const { message } = loadSolverFile(o.solver);
  if (o.iterations !== undefined) message.max_iter = o.iterations;
  const baseDir = path.dirname(o.solver);
  await loadSolverJsLayers(message, { baseDir, layersPath: o.layersPath });
  const solver = new Solver(message, { baseDir, stage: o.stage, level: o.level, layersPath: o.layersPath });
  const json = o.logJson ? fs.openSync(o.logJson, 'a') : undefined;
  const emit = (obj: object) => json !== undefined && fs.writeSync(json, JSON.stringify(obj) + '\n');
  solver.events = {
    onDisplay: (e: DisplayEvent) => emit({ event: 'train', iter: e.iter, loss: e.loss, lr: e.lr, iters_per_s: e.itersPerSecond, outputs: e.outputs }),
    onTest: (e: TestEvent) => emit({ event: 'test', iter: e.iter, net: e.net, loss: e.loss, outputs: e.outputs }),
    onIteration: o.onProgress,
  };
  const signals = installSignalHandlers(o.sigintEffect ?? 'stop', o.sighupEffect ?? 'snapshot');
  solver.requestedAction = signals.poll;
  try {
    if (o.weights?.length) {
      log.info(`Finetuning from ${o.weights.join(',')}`);
      solver.loadWeights(o.weights);
    }
    await solver.solve(o.snapshot);
  } finally {
    signals.uninstall();
    if (json !== undefined) fs.closeSync(json);
  }
  return solver;
}
