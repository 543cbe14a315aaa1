// The README quick start's LeNet training, timed as a user runs it: `kdnet data fashion-mnist` (once, if its
// LMDBs are missing) and `kdnet train models/lenet/lenet_solver.prototxt` (its max_iter, test passes and
// snapshots; only snapshot_prefix moved into a temporary folder so runs/ is left alone), once with the native
// kernels and once with KDNET_NATIVE=0, each a fresh CLI process. Prints wall time, iter/s, the final test
// accuracy of each and the speed ratio; JSON + Markdown in bench/results/. Not part of the default
// `npm run bench` (≈ 2 min quiet, much longer under load): `npx tsx bench/run.ts quickstart`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readTrainingCurves } from '../dist/solvers/training-log.js';
import { machineInfo, markdownTable, median, writeResults } from './peer-bench.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kdnet = path.join(root, 'bin', 'kdnet.js');
const SOLVER = 'models/lenet/lenet_solver.prototxt';
const TRAIN_LMDB = path.join(root, 'data', 'fashion-mnist', 'fashion_train_lmdb');

interface Run {
  variant: string;
  kernels: string;
  wallSeconds: number;
  maxIter: number;
  /** max_iter over the whole wall time (start-up, test passes and snapshots included). */
  iterPerSecond: number;
  /** Median of the solver's own `Iteration N (X iter/s …)` display lines (training only). */
  displayIterPerSecond?: number;
  /** Every display line's iter/s, in order (a slow start or a slow stretch shows here). */
  displayRates: number[];
  finalTestAccuracy?: number;
  finalLoss?: number;
}

function train(variant: string, solver: string, logJson: string, maxIter: number): Run {
  const env = { ...process.env, ...(variant === 'wasm' ? { KDNET_NATIVE: '0' } : {}) };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [kdnet, 'train', solver, '--log-json', logJson], { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallSeconds = (performance.now() - t0) / 1000;
  const log = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`kdnet train (${variant}) exited ${r.status}: ${log.trim().split('\n').slice(-3).join(' / ')}`);
  const points = readTrainingCurves(logJson);
  const last = (series: string) => points.filter((p) => p.series === series).at(-1)?.value;
  // Iteration 0's line has no interval behind it (0 iter/s): left out.
  const rates = [...log.matchAll(/Iteration (\d+) \(([\d.e+-]+) iter\/s/g)].filter((m) => m[1] !== '0').map((m) => Number(m[2]));
  return {
    variant,
    kernels: /Kernels: (.*)/.exec(log)?.[1]?.trim() ?? '(not printed)',
    wallSeconds,
    maxIter,
    iterPerSecond: maxIter / wallSeconds,
    displayIterPerSecond: rates.length ? median(rates) : undefined,
    displayRates: rates,
    finalTestAccuracy: last('test #0 accuracy'),
    finalLoss: last('train loss'),
  };
}

export async function benchQuickstart(): Promise<void> {
  const loadBefore = os.loadavg();
  if (!fs.existsSync(TRAIN_LMDB)) {
    console.log('quickstart: building the data first (kdnet data fashion-mnist)');
    const r = spawnSync(process.execPath, [kdnet, 'data', 'fashion-mnist'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kdnet data fashion-mnist failed: ${r.stderr.trim()}`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-bench-quickstart-'));
  const text = fs.readFileSync(path.join(root, SOLVER), 'utf8');
  const maxIter = Number(/^max_iter:\s*(\d+)/m.exec(text)?.[1]);
  const solver = path.join(tmp, 'solver.prototxt');
  fs.writeFileSync(solver, text.replace(/^snapshot_prefix:.*$/m, `snapshot_prefix: "${path.join(tmp, 'lenet')}"`));
  const runs: Run[] = [];
  try {
    for (const variant of ['native', 'wasm']) runs.push(train(variant, solver, path.join(tmp, `${variant}.jsonl`), maxIter));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const fmt = (v: number | undefined, d: number) => (v === undefined ? '—' : v.toFixed(d));
  const table = markdownTable(
    ['kernel set', 'wall s', 'iter/s (wall)', 'iter/s (display lines)', 'final test accuracy', 'final train loss', 'kernels'],
    runs.map((r) => [r.variant, fmt(r.wallSeconds, 1), fmt(r.iterPerSecond, 1), fmt(r.displayIterPerSecond, 1), fmt(r.finalTestAccuracy, 4), fmt(r.finalLoss, 4), r.kernels]),
  );
  const [native, wasm] = runs as [Run, Run];
  const ratio = wasm.wallSeconds / native.wallSeconds;
  const machine = machineInfo(loadBefore);
  const what = `kdnet train ${SOLVER} (max_iter ${maxIter}, its test passes and snapshots), native vs KDNET_NATIVE=0, one fresh process each`;
  console.log(`quickstart: ${what}`);
  console.log(table);
  console.log(`native is ×${ratio.toFixed(2)} faster than pure wasm (wall time); accuracy ${fmt(native.finalTestAccuracy, 4)} vs ${fmt(wasm.finalTestAccuracy, 4)}`);
  console.log(`load average ${machine.loadAverageBefore.map((l) => l.toFixed(1)).join(' ')} before, ${machine.loadAverageAfter.map((l) => l.toFixed(1)).join(' ')} after (2 cores: anything above ~0.5 is another process)`);
  const result = { bench: 'quickstart', date: new Date().toISOString(), machine, what, speedRatio: ratio, runs };
  writeResults('quickstart', result, `# Quick start training: native vs pure wasm (${result.date})\n\n${table}\n\n- ${what}\n- native ×${ratio.toFixed(2)} faster (wall time)\n- machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n- load average ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfter.join(' ')} after\n`);
}
