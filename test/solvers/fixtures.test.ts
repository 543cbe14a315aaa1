// The 19 solver runs of ../shared/fixtures/solvers, replayed from their init.caffemodel: per-iteration
// losses, learning rates and the whole weight trajectory must match real Caffe, and so must the solver state
// (history blobs) written at iteration 20.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixtureCases, missingLayerTypes, type FixtureCase } from '../support/fixtures.js';
import { fixturesRoot, hasFixtures } from '../support/shared.js';
import { initBackend } from '../../src/backend/select.js';
import { loadSolverFile } from '../../src/proto/load.js';
import { Solver } from '../../src/solvers/solver.js';
import { readNpy } from '../../src/util/npy.js';
import { readSolverState } from '../../src/solvers/snapshot.js';
import { setLogSink } from '../../src/log.js';

interface SolverCase extends FixtureCase {
  tolerance: { losses: { rtol: number; atol: number }; params: { rtol: number; atol: number } } & FixtureCase['tolerance'];
}

function allclose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= atol + rtol * Math.abs(b[i]!))) return `at ${i}: ${a[i]} vs ${b[i]}`;
  }
  return undefined;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-solver-fixtures-'));

async function runCase(c: SolverCase) {
  const dir = path.join(fixturesRoot, c.dir);
  const { message } = loadSolverFile(path.join(dir, 'solver.prototxt'));
  message.snapshot_prefix = path.join(tmp, c.name);
  const solver = new Solver(message, { baseDir: dir });
  const init = fs.existsSync(path.join(dir, 'init.caffemodel')) ? path.join(dir, 'init.caffemodel') : path.join(dir, '..', 'init.caffemodel');
  solver.loadWeights([init]);
  const losses: number[] = [];
  const lrs: number[] = [];
  const traj: number[][] = [];
  const flatParams = () => solver.net.layers().flatMap((l) => l.blobs.flatMap((b) => Array.from(b.dataSync())));
  traj.push(flatParams());
  solver.events = { onDisplay: (e) => (losses.push(e.loss), lrs.push(e.lr)) };
  for (let k = 0; k < 20; k++) {
    await solver.step(1);
    traj.push(flatParams());
  }
  const snap = solver.snapshot();
  solver.dispose();
  return { losses, lrs, traj, snap };
}

/** The cases the fused wasm update kernel runs (src/solvers/fused-update.ts): all but L1 decay. */
function fusedOnWasm(c: SolverCase): boolean {
  const { message } = loadSolverFile(path.join(fixturesRoot, c.dir, 'solver.prototxt'));
  return message.regularization_type !== 'L1';
}

// Every case on tfjs' cpu backend; on wasm again those that run the fused update there.
for (const backend of ['cpu', 'wasm'] as const) {
  describe.skipIf(!hasFixtures)(`solver fixtures (real Caffe trajectories), ${backend}`, () => {
    const restore = setLogSink(() => {});
    beforeAll(async () => {
      await initBackend(backend, true);
    });
    afterAll(async () => {
      setLogSink(restore);
      await initBackend('cpu', true);
    });
    const cases = (fixtureCases('solver') as SolverCase[]).filter((c) => backend === 'cpu' || fusedOnWasm(c));
    for (const c of cases) {
      const missing = missingLayerTypes({ ...c, dir: c.dir } as FixtureCase, 'train.prototxt');
      const test = missing.length ? it.skip : it;
      test(`${c.name}: ${c.what}${missing.length ? ` (needs ${missing.join(', ')})` : ''}`, async () => {
        const dir = path.join(fixturesRoot, c.dir);
        const r = await runCase(c);
        const expLosses = readNpy(path.join(dir, 'losses.npy')).data;
        const expLrs = readNpy(path.join(dir, 'lrs.npy')).data;
        const traj = readNpy(path.join(dir, 'params_traj.npy'));
        const tol = c.tolerance;
        expect(allclose(r.losses, expLosses.slice(0, 20), tol.losses.rtol, tol.losses.atol), 'losses').toBeUndefined();
        expect(allclose(r.lrs, expLrs, 1e-5, 0), 'learning rates (6 digits in the log)').toBeUndefined();
        const P = traj.shape[1]!;
        for (let k = 0; k <= 20; k++) {
          const row = traj.data.subarray(k * P, (k + 1) * P);
          expect(allclose(r.traj[k]!, row, tol.params.rtol, tol.params.atol), `params after ${k} updates`).toBeUndefined();
        }
        // The solver state matches Caffe's: same iteration and history blobs (momentum, squared-gradient sums …).
        const ours = readSolverState(r.snap.state);
        const caffe = readSolverState(path.join(dir, 'snap_iter_20.solverstate'));
        expect(ours.iter).toBe(caffe.iter);
        expect(ours.currentStep).toBe(caffe.currentStep);
        expect(ours.history.map((h) => h.shape)).toEqual(caffe.history.map((h) => h.shape));
        ours.history.forEach((h, i) => {
          expect(allclose(h.data, caffe.history[i]!.data, Math.max(tol.params.rtol, 1e-3), 1e-4), `history blob ${i}`).toBeUndefined();
        });
      });
    }
  });
}

describe.skipIf(!hasFixtures)('lenet_sgd3 (3 SGD steps of LeNet fed through Input layers, from nets/lenet weights)', () => {
  it('matches Caffe\'s losses and final parameters', async () => {
    await initBackend('wasm', true);
    const restore = setLogSink(() => {});
    const dir = path.join(fixturesRoot, 'nets', 'lenet_sgd3');
    try {
      const { message } = loadSolverFile(path.join(dir, 'solver.prototxt'));
      message.snapshot_after_train = false;
      const solver = new Solver(message, { baseDir: dir });
      solver.loadWeights([path.join(fixturesRoot, 'nets', 'lenet', 'net.caffemodel')]);
      const losses: number[] = [];
      solver.events = { onDisplay: (e) => losses.push(e.loss) };
      for (let k = 0; k < 3; k++) {
        for (const blob of ['data', 'label']) {
          const a = readNpy(path.join(dir, `in.${blob}_iter${k}.npy`));
          solver.net.setInput(blob, tf.tensor(a.data, a.shape));
        }
        await solver.step(1);
      }
      const expected = readNpy(path.join(dir, 'losses.npy')).data;
      expect(allclose(losses, expected, 1e-4, 1e-5)).toBeUndefined();
      for (const f of fs.readdirSync(dir).filter((x) => x.startsWith('param_final.'))) {
        const [, layer, idx] = f.slice(0, -4).split('.');
        const e = readNpy(path.join(dir, f));
        const got = solver.net.layer(layer!).blobs[Number(idx)]!.dataSync();
        expect(allclose(got, e.data, 1e-3, 1e-5), f).toBeUndefined();
      }
      solver.dispose();
    } finally {
      setLogSink(restore);
      await initBackend('cpu', true);
    }
  });
});
