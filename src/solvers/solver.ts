// Caffe's Solver: builds the train and test nets from a SolverParameter, runs Step/Solve with Caffe's
// display, test, learning-rate, regularization, clipping, iter_size and snapshot behaviour, and logs Caffe's
// lines so existing log parsers keep working.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { has, newMessage, type Message } from '../proto/schema.js';
import { filterNet, Phase } from '../net/net-state.js';
import { Net, absMean } from '../net/net.js';
import { loadWeightsInto } from '../proto/weights.js';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { LearningRate } from './lr-policy.js';
import { updateRule } from './catalog.js';
import type { UpdateRule } from './update-rule.js';
import { readSolverState } from './snapshot.js';
import { readSolverStateHdf5 } from './snapshot-hdf5.js';
import { writeSnapshot } from './snapshot-files.js';
import { ensureSnapshotFolder, prepareSnapshotFolder, resolveSnapshotPrefix, type SnapshotPrefix } from './snapshot-folder.js';
import { validateSolver } from './validate.js';
import { mergeState, testNetSources, trainNetSource } from './solver-nets.js';
import { resolveDataPath } from '../util/resolve-path.js';
import { formatCaffeNumber } from './format.js';
import { fusedUpdate } from './fused-update.js';

export interface SolverOptions {
  /** Folder of the solver file: relative net paths are tried against it after the working directory. */
  baseDir?: string;
  /** The solver file: an unset snapshot_prefix defaults to its path without extension (as in Caffe master). */
  solverFile?: string;
  /** Extra stages/level from the command line (appended to train_state/test_state like Caffe's flags). */
  stage?: string[];
  level?: number;
  seed?: number;
  /** Folders searched for the JavaScript ports of Python layers (see loadSolverJsLayers). */
  layersPath?: string[];
}

export interface DisplayEvent {
  iter: number;
  loss: number;
  lr: number;
  itersPerSecond: number;
  outputs: Array<{ name: string; value: number; weight: number }>;
}

export interface TestEvent {
  iter: number;
  net: number;
  loss?: number;
  outputs: Array<{ name: string; value: number; weight: number }>;
}

export interface SolverEvents {
  onDisplay?(e: DisplayEvent): void;
  onTest?(e: TestEvent): void;
  onIteration?(iter: number, maxIter: number): void;
}

export type SolverAction = 'none' | 'snapshot' | 'stop';

export class Solver {
  readonly param: Message;
  readonly net: Net;
  readonly testNets: Net[] = [];
  iter = 0;
  private readonly lr: LearningRate;
  private readonly rule: UpdateRule;
  /** history[set][paramId] */
  private history: tf.Tensor[][] = [];
  private losses: number[] = [];
  private smoothedLoss = 0;
  private readonly trainLayerParams: Message[];
  private readonly options: SolverOptions;
  private readonly prefix: SnapshotPrefix;
  /** The .solverstate of the last complete snapshot (or the one resumed from), named when a snapshot fails. */
  private lastSnapshot?: string;
  /** Polled after every iteration (signals): Caffe's GetRequestedAction. */
  requestedAction: () => SolverAction = () => 'none';
  events: SolverEvents = {};

  constructor(param: Message, options: SolverOptions = {}) {
    this.param = param;
    this.options = options;
    validateSolver(param);
    this.rule = updateRule(param.type)!;
    this.lr = new LearningRate(param);
    // Caffe's CheckSnapshotWritePermissions, before any net is built; kdnet also checks when only the
    // final snapshot (snapshot_after_train) will be written.
    this.prefix = resolveSnapshotPrefix(param, options.solverFile);
    if (Number(param.snapshot) > 0 || param.snapshot_after_train) prepareSnapshotFolder(this.prefix);
    const train = trainNetSource(param, options.baseDir);
    const state = mergeState(Phase.TRAIN, train.param.state, has(param, 'train_state') ? param.train_state : undefined, options.stage ?? [], options.level);
    log.info(`Creating training net from ${train.label}`);
    const filtered = filterNet(train.param, state);
    this.trainLayerParams = filtered.layer;
    this.net = new Net(filtered, { phase: state.phase, seed: this.seed(), baseDir: train.dir, layersPath: options.layersPath });
    const tests = testNetSources(param, options.baseDir);
    tests.forEach((t, i) => {
      const s = mergeState(Phase.TEST, t.param.state, (param.test_state as Message[])[i], options.stage ?? [], options.level);
      log.info(`Creating test net (#${i}) specified by ${t.label}`);
      const testNet = new Net(filterNet(t.param, s), { phase: s.phase, seed: this.seed() + i + 1, baseDir: t.dir, layersPath: options.layersPath });
      testNet.shareParametersWith(this.net);
      this.testNets.push(testNet);
    });
    this.history = Array.from({ length: this.rule.historySets }, () => this.net.learnableParams.map((p) => tf.zerosLike(p.tensor)));
    log.info('Solver scaffolding done.');
  }

  private seed(): number {
    const s = Number(this.param.random_seed);
    return this.options.seed ?? (s >= 0 ? s : 1701);
  }

  // ------------------------------------------------------------------ training

  learningRate(): number {
    return this.lr.rate(this.iter);
  }

  private updateSmoothedLoss(loss: number, startIter: number): void {
    const average = Number(this.param.average_loss);
    if (this.losses.length < average) {
      this.losses.push(loss);
      const n = this.losses.length;
      this.smoothedLoss = (this.smoothedLoss * (n - 1) + loss) / n;
    } else {
      const idx = (this.iter - startIter) % average;
      this.smoothedLoss += (loss - this.losses[idx]!) / average;
      this.losses[idx] = loss;
    }
  }

  get smoothed(): number {
    return this.smoothedLoss;
  }

  /**
   * Runs `iters` iterations (Caffe's Solver::Step). Returns false when a stop was requested. Yields to the
   * event loop after every iteration so that signals (Ctrl-C) are delivered while training runs.
   */
  async step(iters: number): Promise<boolean> {
    const startIter = this.iter;
    const stopIter = this.iter + iters;
    this.losses = [];
    this.smoothedLoss = 0;
    let lastDisplay = performance.now();
    let itersAtDisplay = this.iter;
    const display = Number(this.param.display);
    const testInterval = Number(this.param.test_interval);
    while (this.iter < stopIter) {
      this.net.clearParamDiffs();
      if (testInterval && this.iter % testInterval === 0 && (this.iter > 0 || this.param.test_initialization)) this.testAll();
      const displaying = display > 0 && this.iter % display === 0;
      this.net.debugInfo = displaying && this.param.debug_info === true;
      let loss = 0;
      const iterSize = Number(this.param.iter_size);
      for (let i = 0; i < iterSize; i++) {
        loss += this.net.forward();
        this.net.backward();
      }
      loss /= iterSize;
      if (!Number.isFinite(loss)) throw this.nonFiniteLoss(loss);
      this.updateSmoothedLoss(loss, startIter);
      if (displaying) {
        const now = performance.now();
        const lapse = (now - lastDisplay) / 1000;
        const perS = (this.iter - itersAtDisplay) / (lapse || 1);
        log.info(`Iteration ${this.iter} (${formatCaffeNumber(perS)} iter/s, ${formatCaffeNumber(lapse)}s/${display} iters), loss = ${formatCaffeNumber(this.smoothedLoss)}`);
        lastDisplay = now;
        itersAtDisplay = this.iter;
        const outputs = this.outputValues(this.net);
        outputs.forEach((o, k) => {
          const weighted = o.weight ? ` (* ${formatCaffeNumber(o.weight)} = ${formatCaffeNumber(o.weight * o.value)} loss)` : '';
          log.info(`    Train net output #${k}: ${o.name} = ${formatCaffeNumber(o.value)}${weighted}`);
        });
        this.events.onDisplay?.({ iter: this.iter, loss: this.smoothedLoss, lr: this.learningRate(), itersPerSecond: perS, outputs });
      }
      this.applyUpdate(displaying);
      this.iter++;
      this.events.onIteration?.(this.iter, Number(this.param.max_iter));
      await new Promise<void>((resolve) => setImmediate(resolve));
      const action = this.requestedAction();
      const snapshotEvery = Number(this.param.snapshot);
      if ((snapshotEvery && this.iter % snapshotEvery === 0) || action === 'snapshot') this.snapshot();
      if (action === 'stop') return false;
    }
    return true;
  }

  private nonFiniteLoss(loss: number): KdnetError {
    const culprit = this.net.firstNonFiniteBlob();
    return new KdnetError(
      `loss became ${loss} at iteration ${this.iter}` + (culprit ? `; the first non-finite output is blob '${culprit.blob}' of layer "${culprit.layer}"` : '') +
        ' (the last snapshot is kept; try a lower base_lr or clip_gradients)',
      culprit ? { layer: culprit.layer, blob: culprit.blob } : {},
    );
  }

  private outputValues(net: Net): Array<{ name: string; value: number; weight: number }> {
    const out: Array<{ name: string; value: number; weight: number }> = [];
    const weights = new Map(net.lossTops().map((t) => [t.blob, t.weight]));
    for (const name of net.outputNames()) {
      const values = net.blob(name).dataSync();
      for (const v of values) out.push({ name, value: v, weight: weights.get(name) ?? 0 });
    }
    return out;
  }

  /** SGDSolver::ApplyUpdate: rate, clipping, then per parameter normalize, regularize, update. */
  private applyUpdate(displaying: boolean): void {
    const rate = this.learningRate();
    if (displaying) log.info(`Iteration ${this.iter}, lr = ${formatCaffeNumber(rate)}`);
    this.clipGradients();
    const iterSize = Number(this.param.iter_size);
    const weightDecay = this.param.weight_decay as number;
    const l1 = this.param.regularization_type === 'L1';
    this.net.learnableParams.forEach((p, id) => {
      const diff0 = this.net.learnableParamDiff(id);
      if (!diff0) return;
      if (this.net.debugInfo) {
        log.info(`    [Update] Layer ${p.layer}, param ${p.index} data: ${absMean(p.tensor)}; diff: ${absMean(diff0)}`);
      }
      const localDecay = weightDecay * p.decayMult;
      const localRate = rate * p.lrMult;
      // Every rule with L2 (or no) decay: one kernel on wasm, bitwise the same as the kernels below.
      const ctx = { solver: this.param, iter: this.iter };
      const fused = this.rule.fused && !(l1 && localDecay)
        ? fusedUpdate({ rule: this.rule.fused.rule, param: p.tensor, diff: diff0, histories: this.history.map((h) => h[id]!), scale: 1 / iterSize, decay: localDecay, scalars: this.rule.fused.scalars(localRate, ctx) })
        : undefined;
      const next = fused ?? tf.tidy(() => {
        let diff: tf.Tensor = diff0;
        if (iterSize > 1) diff = tf.mul(diff, 1 / iterSize);
        if (localDecay) diff = tf.add(diff, tf.mul(l1 ? tf.sign(p.tensor) : p.tensor, localDecay));
        const { update, history } = this.rule.step(diff, this.history.map((h) => h[id]!), localRate, ctx);
        return { value: tf.sub(p.tensor, update), history };
      });
      p.tensor.assign(next.value);
      next.value.dispose();
      next.history.forEach((h, k) => {
        this.history[k]![id]!.dispose();
        this.history[k]![id] = h;
      });
    });
  }

  private clipGradients(): void {
    const clip = this.param.clip_gradients as number;
    if (clip < 0) return;
    const ids = this.net.learnableParams.map((_, i) => i).filter((i) => this.net.learnableParamDiff(i));
    const sumsq = tf.tidy(() => tf.addN(ids.map((i) => tf.sum(tf.square(this.net.learnableParamDiff(i)!)))).dataSync()[0]!);
    const norm = Math.sqrt(sumsq);
    if (norm > clip) {
      const scale = clip / norm;
      log.info(`Gradient clipping: scaling down gradients (L2 norm ${formatCaffeNumber(norm)} > ${formatCaffeNumber(clip)}) by scale factor ${formatCaffeNumber(scale)}`);
      for (const i of ids) this.net.setLearnableParamDiff(i, tf.mul(this.net.learnableParamDiff(i)!, scale));
    }
  }

  testAll(): void {
    this.testNets.forEach((_, i) => this.test(i));
  }

  test(index: number): TestEvent {
    const net = this.testNets[index]!;
    const iters = Number((this.param.test_iter as number[])[index]);
    log.info(`Iteration ${this.iter}, Testing net (#${index})`);
    let scores: number[] = [];
    let names: Array<{ name: string; weight: number }> = [];
    let loss = 0;
    for (let i = 0; i < iters; i++) {
      const iterLoss = net.forward();
      if (this.param.test_compute_loss) loss += iterLoss;
      const outs = this.outputValues(net);
      if (i === 0) {
        scores = outs.map((o) => o.value);
        names = outs.map((o) => ({ name: o.name, weight: o.weight }));
      } else outs.forEach((o, k) => (scores[k]! += o.value));
    }
    const event: TestEvent = { iter: this.iter, net: index, outputs: [] };
    if (this.param.test_compute_loss) {
      loss /= iters;
      log.info(`Test loss: ${formatCaffeNumber(loss)}`);
      event.loss = loss;
    }
    scores.forEach((s, k) => {
      const mean = s / iters;
      const { name, weight } = names[k]!;
      const weighted = weight ? ` (* ${formatCaffeNumber(weight)} = ${formatCaffeNumber(weight * mean)} loss)` : '';
      log.info(`    Test net output #${k}: ${name} = ${formatCaffeNumber(mean)}${weighted}`);
      event.outputs.push({ name, value: mean, weight });
    });
    this.events.onTest?.(event);
    return event;
  }

  /** Solver::Solve: optional restore, step to max_iter, final snapshot, final display and test. */
  async solve(resumeFile?: string): Promise<void> {
    log.info(`Solving ${this.net.name}`);
    log.info(`Learning Rate Policy: ${this.param.lr_policy}`);
    if (resumeFile) {
      log.info(`Restoring previous solver status from ${resumeFile}`);
      this.restore(resumeFile);
    }
    const startIter = this.iter;
    const completed = await this.step(Number(this.param.max_iter) - this.iter);
    const every = Number(this.param.snapshot);
    if (this.param.snapshot_after_train && (!every || this.iter % every !== 0)) this.snapshot();
    if (!completed) {
      log.info('Optimization stopped early.');
      return;
    }
    const display = Number(this.param.display);
    if (display && this.iter % display === 0) {
      const loss = this.net.forward();
      this.updateSmoothedLoss(loss, startIter);
      log.info(`Iteration ${this.iter}, loss = ${formatCaffeNumber(this.smoothedLoss)}`);
    }
    const testInterval = Number(this.param.test_interval);
    if (testInterval && this.iter % testInterval === 0) this.testAll();
    log.info('Optimization Done.');
  }

  // ------------------------------------------------------------------ snapshots

  snapshotPrefix(): string {
    return this.prefix.prefix;
  }

  /** Writes <prefix>_iter_<N>.caffemodel, .kdnetstate and .solverstate (.h5 with snapshot_format HDF5). */
  snapshot(): { model: string; state: string } {
    ensureSnapshotFolder(this.prefix);
    try {
      const written = writeSnapshot({
        prefix: this.prefix.prefix,
        iter: this.iter,
        hdf5: this.param.snapshot_format === 0,
        withDiff: this.param.snapshot_diff === true,
        net: this.net,
        layerParams: this.trainLayerParams,
        currentStep: this.lr.currentStep,
        history: this.history.flat(),
        sidecar: { train: this.net.saveState(), tests: this.testNets.map((t) => t.saveState()) },
      });
      this.lastSnapshot = written.state;
      return written;
    } catch (e) {
      if (!(e instanceof KdnetError) || !this.lastSnapshot) throw e;
      throw new KdnetError(`${e.message}; the last complete snapshot, ${this.lastSnapshot}, is intact (resume with --snapshot ${this.lastSnapshot})`, e.where, e.others);
    }
  }

  restore(stateFile: string): void {
    const s = stateFile.endsWith('.h5') ? readSolverStateHdf5(stateFile) : readSolverState(stateFile);
    const expected = this.history.flat();
    if (s.history.length !== expected.length) {
      throw new KdnetError(`${stateFile}: holds ${s.history.length} history blobs, this ${this.param.type} solver needs ${expected.length}`);
    }
    if (s.learnedNet) loadWeightsInto(this.net, [resolveDataPath(s.learnedNet, path.dirname(stateFile))]);
    this.iter = s.iter;
    this.lr.currentStep = s.currentStep;
    this.lastSnapshot = stateFile;
    const flat = s.history.map((h, i) => {
      if (h.data.length !== expected[i]!.size) throw new KdnetError(`${stateFile}: history blob ${i} has ${h.data.length} values, expected ${expected[i]!.size}`);
      return tf.tensor(h.data, expected[i]!.shape);
    });
    expected.forEach((t) => t.dispose());
    const per = this.net.learnableParams.length;
    this.history = Array.from({ length: this.rule.historySets }, (_, k) => flat.slice(k * per, (k + 1) * per));
    const sidecar = stateFile.replace(/\.solverstate(\.h5)?$/, '') + '.kdnetstate';
    if (fs.existsSync(sidecar)) {
      const saved = JSON.parse(fs.readFileSync(sidecar, 'utf8'));
      this.net.restoreState(saved.train);
      this.testNets.forEach((t, i) => saved.tests?.[i] && t.restoreState(saved.tests[i]));
    } else {
      log.info(`No ${path.basename(sidecar)} beside the solver state: data layers restart from their first record (as in Caffe)`);
    }
  }

  loadWeights(files: string[]): void {
    loadWeightsInto(this.net, files);
  }

  dispose(): void {
    for (const h of this.history.flat()) h.dispose();
    this.history = [];
    for (const t of this.testNets) t.dispose();
    this.net.dispose();
  }
}

export function newSolverParameter(fields: Record<string, unknown>): Message {
  return newMessage('SolverParameter', fields);
}
