// `kdnet train` as a library call: solver file → Solver (+ weights or snapshot) → Solve, with signals,
// JSON event log and progress reporting hooks.
import fs from 'node:fs';
import path from 'node:path';
import { loadSolverFile } from '../proto/load.js';
import type { Message } from '../proto/schema.js';
import { Solver, type DisplayEvent, type TestEvent } from './solver.js';
import { installSignalHandlers, type SignalEffect } from './signals.js';
import { KdnetError } from '../errors.js';
import { loadSolverJsLayers } from './solver-nets.js';
import { log } from '../log.js';
import { writeError, writeFully } from '../util/atomic-write.js';

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
  /** Each test pass's outputs (the final scores of a run, for instance). */
  onTest?: (e: TestEvent) => void;
  /** Folders searched for the JavaScript ports of Python layers (--layers-path). */
  layersPath?: string[];
  /** The solver already loaded (and changed, e.g. by `kdnet distill sweep`); `solver` then only names it. */
  param?: Message;
  /** Folder relative net and data paths are tried against after the working directory (default: the solver's). */
  baseDir?: string;
}

export async function train(o: TrainOptions): Promise<Solver> {
  if (o.weights?.length && o.snapshot) throw new KdnetError('give either --weights or --snapshot, not both (Caffe: "Give a snapshot to resume training or weights to finetune but not both")');
  const message = o.param ?? loadSolverFile(o.solver).message;
  if (o.iterations !== undefined) message.max_iter = o.iterations;
  const baseDir = o.baseDir ?? path.dirname(o.solver);
  await loadSolverJsLayers(message, { baseDir, layersPath: o.layersPath });
  const json = o.logJson ? openLogJson(o.logJson) : undefined;
  try {
    const solver = new Solver(message, { baseDir, solverFile: o.solver, stage: o.stage, level: o.level, layersPath: o.layersPath });
    try {
      await run(solver, o, json);
    } catch (e) {
      solver.dispose(); // data workers and tensors go even when training fails
      throw e;
    }
    return solver;
  } finally {
    if (json !== undefined) fs.closeSync(json);
  }
}

async function run(solver: Solver, o: TrainOptions, json: number | undefined): Promise<void> {
  const emit = (obj: object) => {
    if (json === undefined) return;
    const before = fs.fstatSync(json).size;
    try {
      writeFully(json, Buffer.from(JSON.stringify(obj) + '\n'));
    } catch (e) {
      fs.ftruncateSync(json, before); // no half line for the JSON Lines reader (kdnet plot)
      throw writeError(`--log-json file ${o.logJson}`, e, 'append to') ?? e;
    }
  };
  solver.events = {
    onDisplay: (e: DisplayEvent) => emit({ event: 'train', iter: e.iter, loss: e.loss, lr: e.lr, iters_per_s: e.itersPerSecond, outputs: e.outputs }),
    onTest: (e: TestEvent) => {
      emit({ event: 'test', iter: e.iter, net: e.net, loss: e.loss, outputs: e.outputs });
      o.onTest?.(e);
    },
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
  }
}

function openLogJson(file: string): number {
  try {
    return fs.openSync(file, 'a');
  } catch (e) {
    throw writeError(`--log-json file ${file}`, e, 'open') ?? e;
  }
}
