// `kdnet distill sweep`: trains a distillation solver once per temperature (and seed) through the same
// library path as `kdnet train`, with every distillation layer's T rewritten (sweep-rewrite.ts), and reports
// the final test accuracy per T (sweep-report.ts). The report is rewritten after every run, so an interrupted
// sweep keeps the runs it finished.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { clear, newMessage, type Message } from '../proto/schema.js';
import { loadSolverFile } from '../proto/load.js';
import { printCaffeText } from '../proto/text.js';
import { testNetSources, trainNetSource } from '../solvers/solver-nets.js';
import { train } from '../solvers/train.js';
import type { TestEvent } from '../solvers/solver.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { formatCaffeNumber as num } from '../solvers/format.js';
import { checkOutDir } from './export.js';
import { isDistillationLayer, withTemperature, type TemperatureChange } from './sweep-rewrite.js';
import { writeSweepReport, type SweepReport, type SweepRun } from './sweep-report.js';

export interface SweepOptions {
  solver: string;
  temperatures: number[];
  out: string;
  /** Teacher (or any) weights copied by layer name before each run, as `kdnet train --weights`. */
  weights?: string[];
  /** Runs per temperature, seeds random_seed (1701 when unset), +1, ... */
  seeds?: number;
  /** max_iter override. */
  iterations?: number;
  /** Test output compared across T (default: the first Accuracy layer's top of test net #0). */
  metric?: string;
  force?: boolean;
  /** A progress callback per run (the CLI draws a bar). */
  onRun?: (label: string) => { update(iter: number, maxIter: number): void; stop(): void };
}

export interface SweepResult {
  report: SweepReport;
  files: { json: string; markdown: string; svg: string };
}

/** "1,2,4,8,20" → [1, 2, 4, 8, 20]; one error for anything that is not a list of distinct positive numbers. */
export function parseTemperatures(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  const values = items.map(Number);
  const bad = items.findIndex((s, i) => s === '' || !Number.isFinite(values[i]!) || values[i]! <= 0);
  if (bad >= 0) throw new KdnetError(`--temperatures wants positive numbers separated by commas (e.g. 1,2,4,8,20), got '${items[bad]}' in '${text}'`);
  if (new Set(values).size !== values.length) throw new KdnetError(`--temperatures lists a temperature twice: '${text}'`);
  return values;
}

interface PreparedSolver {
  param: Message;
  /** Folder the nets' relative data paths are tried against (the train net's). */
  baseDir?: string;
  train: Message;
  tests: Message[];
}

/** The solver with its nets loaded (file or inline, as Caffe's Solver finds them), ready to be inlined per T. */
function prepare(o: SweepOptions): PreparedSolver {
  if (!fs.existsSync(o.solver)) throw new KdnetError(`--solver ${o.solver}: no such file`);
  const param = loadSolverFile(o.solver).message;
  const baseDir = path.dirname(o.solver);
  const trainNet = trainNetSource(param, baseDir);
  const tests = testNetSources(param, baseDir);
  if (!tests.length) throw new KdnetError(`${o.solver} has no test net (test_iter): the sweep compares the final test outputs`);
  return { param, baseDir: trainNet.dir, train: trainNet.param, tests: tests.map((t) => t.param) };
}

/** The metric's name: --metric, else the top of test net #0's first Accuracy layer. */
function metricName(o: SweepOptions, test: Message): string {
  if (o.metric) return o.metric;
  const acc = (test.layer as Message[]).find((l) => l.type === 'Accuracy');
  if (!acc) throw new KdnetError(`the test net of ${o.solver} has no Accuracy layer: name the test output to compare with --metric`);
  return (acc.top as string[])[0]!;
}

/** The solver at one temperature and seed: every net inline with T rewritten, snapshots under `runDir`. */
function solverAt(p: PreparedSolver, file: string, temperature: number, seed: number, runDir: string): { param: Message; changes: TemperatureChange[] } {
  const param = newMessage('SolverParameter', { ...p.param });
  for (const f of ['net', 'net_param', 'train_net', 'train_net_param', 'test_net', 'test_net_param']) clear(param, f);
  const rewritten = withTemperature(p.train, temperature, `the training net of ${file}`);
  param.train_net_param = rewritten.net;
  // A test net without a distillation layer (the student alone) is kept as it is.
  param.test_net_param = p.tests.map((t) => ((t.layer as Message[]).some(isDistillationLayer) ? withTemperature(t, temperature, file).net : t));
  param.random_seed = seed;
  param.snapshot_prefix = path.join(runDir, 'student');
  return { param, changes: rewritten.changes };
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  if (!o.temperatures.length) throw new KdnetError('--temperatures lists no temperature');
  for (const t of o.temperatures) if (!(t > 0) || !Number.isFinite(t)) throw new KdnetError(`--temperatures: ${t} is not a positive temperature`);
  const seedCount = o.seeds ?? 1;
  if (!Number.isInteger(seedCount) || seedCount < 1) throw new KdnetError(`--seeds must be a whole number ≥ 1, got ${o.seeds}`);
  checkOutDir(o.out, o.force ?? false);
  for (const w of o.weights ?? []) if (!fs.existsSync(w)) throw new KdnetError(`--weights ${w}: no such file`);
  const prepared = prepare(o);
  // Every temperature is checked against every distillation layer before the first run starts.
  for (const t of o.temperatures) solverAt(prepared, o.solver, t, 0, o.out);
  const metric = metricName(o, prepared.tests[0]!);
  const base = Number(prepared.param.random_seed) >= 0 ? Number(prepared.param.random_seed) : 1701;
  const seeds = Array.from({ length: seedCount }, (_, i) => base + i);
  fs.mkdirSync(o.out, { recursive: true });
  const report: SweepReport = { solver: o.solver, metric, temperatures: o.temperatures, seeds, runs: [] };
  let files = { json: '', markdown: '', svg: '' };
  for (const temperature of o.temperatures) {
    for (const seed of seeds) {
      report.runs.push(await runOne(o, prepared, metric, temperature, seed, report.runs.length + 1, o.temperatures.length * seeds.length));
      files = await writeSweepReport(o.out, report);
    }
  }
  return { report, files };
}

async function runOne(o: SweepOptions, p: PreparedSolver, metric: string, temperature: number, seed: number, index: number, total: number): Promise<SweepRun> {
  const runDir = path.join(o.out, `T${temperature}-seed${seed}`);
  fs.mkdirSync(runDir, { recursive: true });
  const { param, changes } = solverAt(p, o.solver, temperature, seed, runDir);
  writeFileAtomic(path.join(runDir, 'solver.prototxt'), `# ${o.solver} at T = ${temperature}, seed ${seed}, as kdnet distill sweep ran it\n` + printCaffeText(param, 'SolverParameter'));
  log.info(`Sweep run ${index}/${total}: T = ${temperature}, seed ${seed}: ${changes.map((c) => `${c.type} "${c.layer}" T ${num(c.from)} → ${num(c.to)}, loss_weight ${num(c.lossWeight.from)} → ${num(c.lossWeight.to)}`).join('; ')}`);
  const last = new Map<number, TestEvent>();
  const bar = o.onRun?.(`T=${temperature} seed ${seed} (${index}/${total})`);
  let solver;
  try {
    solver = await train({
      solver: o.solver,
      param,
      baseDir: p.baseDir,
      weights: o.weights,
      iterations: o.iterations,
      logJson: path.join(runDir, 'log.jsonl'),
      onProgress: bar?.update,
      onTest: (e) => last.set(e.net, e),
    });
  } finally {
    bar?.stop();
  }
  try {
    const maxIter = Number(solver.param.max_iter);
    if (solver.iter < maxIter) throw new KdnetError(`the sweep stopped at T = ${temperature}, seed ${seed}, iteration ${solver.iter} of ${maxIter}; the finished runs are in ${path.join(o.out, 'sweep.json')}`);
    // Caffe tests after the last iteration only when max_iter is a multiple of test_interval: the sweep always does.
    solver.events = { onTest: (e) => last.set(e.net, e) }; // train's --log-json file is closed by now
    solver.testNets.forEach((_, i) => {
      if (last.get(i)?.iter !== solver.iter) solver.test(i);
    });
    const outputs = [...last.values()].flatMap((e) => e.outputs.map((x) => ({ net: e.net, name: x.name, value: x.value })));
    const found = outputs.find((x) => x.net === 0 && x.name === metric);
    if (!found) throw new KdnetError(`test net #0 of ${o.solver} has no output '${metric}' (it has ${[...new Set(outputs.filter((x) => x.net === 0).map((x) => x.name))].join(', ')})`);
    const snapshot = `${solver.snapshotPrefix()}_iter_${solver.iter}.caffemodel`;
    return { temperature, seed, iterations: solver.iter, outputs, accuracy: found.value, error: 1 - found.value, snapshot: fs.existsSync(snapshot) ? snapshot : undefined };
  } finally {
    solver.dispose();
  }
}

export function formatSweep(r: SweepResult): string {
  return [
    ...r.report.runs.map((x) => `T ${x.temperature}, seed ${x.seed}: ${r.report.metric} ${x.accuracy.toFixed(4)} (error ${x.error.toFixed(4)}) after ${x.iterations} iterations`),
    `wrote ${r.files.markdown}`,
    `wrote ${r.files.json}`,
    `wrote ${r.files.svg}`,
  ].join('\n') + '\n';
}
