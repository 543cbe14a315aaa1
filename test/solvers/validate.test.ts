// Solver files are checked up front, Caffe's CHECKs and the sanity Caffe lacks, each problem at its field's
// file:line:col, all reported together; every real solver of the corpus and the fixtures passes.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseCaffeText } from '../../src/proto/text.js';
import { loadSolverFile } from '../../src/proto/load.js';
import { solverProblems, validateSolver } from '../../src/solvers/validate.js';
import { sharedRoot } from '../support/shared.js';
import { KdnetError } from '../../src/errors.js';

const BASE = 'net: "n.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 10\n';

/** Every problem as `line:col: path: message`. */
function problems(text: string): string[] {
  const { message } = parseCaffeText(text, 'SolverParameter', 's.prototxt');
  return solverProblems(message).map((e) => e.oneLine.replace(/^s\.prototxt:/, ''));
}

describe('solver validation', () => {
  it('accepts a plain solver', () => {
    expect(problems(BASE)).toEqual([]);
  });

  it('reports the issue\'s solver all at once, in file order, each at its field', () => {
    const text = 'net: "n.prototxt"\ntype: "Adamm"\nbase_lr: nan\nlr_policy: "stepp"\nmax_iter: -1\n';
    expect(problems(text)).toEqual([
      '2:1: type: unknown solver type "Adamm" (did you mean "Adam"?); known types: SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam',
      '3:1: base_lr: base_lr must be a finite number ≥ 0, got nan',
      '4:1: lr_policy: unknown lr_policy "stepp" (did you mean "step"?); one of fixed, step, exp, inv, multistep, poly, sigmoid',
      '5:1: max_iter: max_iter must be ≥ 0, got -1 (it would train nothing)',
    ]);
    const { message } = parseCaffeText(text, 'SolverParameter', 's.prototxt');
    const err = (() => {
      try {
        validateSolver(message);
      } catch (e) {
        return e as KdnetError;
      }
    })();
    expect(err).toBeInstanceOf(KdnetError);
    expect(err!.report().split('\n')).toHaveLength(4);
  });

  it('needs an lr_policy, and the fields each policy reads (at the lr_policy line when missing)', () => {
    expect(problems('net: "n.prototxt"\nbase_lr: 0.01\n')).toEqual(['1:1: lr_policy: the solver has no lr_policy (one of fixed, step, exp, inv, multistep, poly, sigmoid)']);
    expect(problems(BASE.replace('"fixed"', '"step"'))).toEqual(['3:1: gamma: lr_policy "step" needs gamma', '3:1: stepsize: lr_policy "step" needs stepsize']);
    expect(problems(BASE.replace('"fixed"', '"step"') + 'gamma: -0.1\nstepsize: 0\n')).toEqual([
      '5:1: gamma: gamma must be a finite number ≥ 0, got -0.1',
      '6:1: stepsize: lr_policy "step" needs stepsize > 0, got 0',
    ]);
    expect(problems(BASE.replace('"fixed"', '"inv"') + 'gamma: 0.0001\n')).toEqual(['3:1: power: lr_policy "inv" needs power']);
    expect(problems(BASE.replace('"fixed"', '"sigmoid"') + 'gamma: 0.1\n')).toEqual(['3:1: stepsize: lr_policy "sigmoid" needs stepsize']);
    expect(problems(BASE.replace('"fixed"', '"multistep"') + 'gamma: 0.1\n')).toEqual(['3:1: stepvalue: lr_policy "multistep" needs stepvalue (one or more, increasing)']);
    expect(problems(BASE.replace('"fixed"', '"multistep"') + 'gamma: 0.1\nstepvalue: 100\nstepvalue: 50\nstepvalue: 50\n')).toEqual([
      '7:1: stepvalue[1]: stepvalue must increase: 50 follows 100',
      '8:1: stepvalue[2]: stepvalue must increase: 50 follows 50',
    ]);
    expect(problems(BASE.replace('"fixed"', '"poly"').replace('max_iter: 10', 'max_iter: 0') + 'power: -1\n')).toEqual([
      '4:1: max_iter: lr_policy "poly" needs max_iter > 0 (it decays the rate to 0 at max_iter), got 0',
      '5:1: power: lr_policy "poly" needs power ≥ 0 (the rate would grow without bound at max_iter), got -1',
    ]);
  });

  it('checks the update rules\' constants as Caffe\'s solvers do', () => {
    expect(problems(BASE + 'momentum: 1\n')).toEqual(['5:1: momentum: momentum must lie in [0, 1), got 1']);
    expect(problems(BASE + 'type: "AdaGrad"\nmomentum: 0.9\n')).toEqual(['6:1: momentum: momentum cannot be used with AdaGrad: remove it or set it to 0, got 0.9']);
    expect(problems(BASE + 'type: "RMSProp"\nrms_decay: 1\n')).toEqual(['6:1: rms_decay: rms_decay should lie between 0 and 1 (0 ≤ rms_decay < 1), got 1']);
    expect(problems(BASE + 'type: "Adam"\nmomentum: 0.9\nmomentum2: 1.5\ndelta: -1\n')).toEqual([
      '7:1: momentum2: momentum2 must lie in [0, 1), got 1.5',
      '8:1: delta: delta must be a finite number ≥ 0, got -1',
    ]);
    expect(problems(BASE + 'type: "AdaDelta"\nmomentum: 0.95\ndelta: 0\n')).toEqual(['7:1: delta: delta must be a finite number > 0 (AdaDelta makes no update with delta 0), got 0']);
  });

  it('points a legacy solver_type at its own line', () => {
    const { message } = loadSolverFileFromText(BASE + 'solver_type: ADAGRAD\nmomentum: 0.9\n');
    expect(solverProblems(message).map((e) => e.oneLine)).toEqual([expect.stringMatching(/:6:1: momentum: momentum cannot be used with AdaGrad/)]);
  });

  it('checks counts, regularization, clipping and snapshots', () => {
    expect(
      problems(BASE + 'average_loss: 0\niter_size: 0\ndisplay: -1\nsnapshot: -5\nweight_decay: -0.1\nregularization_type: "L3"\nclip_gradients: nan\n'),
    ).toEqual([
      '5:1: average_loss: average_loss must be at least 1, got 0',
      '6:1: iter_size: iter_size must be at least 1, got 0',
      '7:1: display: display must be ≥ 0 (0 turns it off), got -1',
      '8:1: snapshot: snapshot must be ≥ 0 (0 turns it off), got -5',
      '9:1: weight_decay: weight_decay must be a finite number ≥ 0, got -0.1',
      '10:1: regularization_type: unknown regularization_type "L3" (did you mean "L1"?); L1 or L2',
      '11:1: clip_gradients: clip_gradients must be a number (a negative value turns clipping off), got nan',
    ]);
  });

  it('checks the nets as Caffe\'s InitTrainNet / InitTestNets do', () => {
    expect(problems('base_lr: 0.01\nlr_policy: "fixed"\n')).toEqual(['1:1: the solver names no train net: give one of net, net_param, train_net, train_net_param']);
    expect(problems(BASE + 'train_net: "t.prototxt"\n')).toEqual(['5:1: train_net: give exactly one train net; the solver sets net and train_net']);
    // With a generic net, every test_iter is a test net, and they need a test_interval.
    expect(problems(BASE + 'test_iter: 10\ntest_iter: 5\n')).toEqual(['5:1: test_interval: test_interval must be > 0 when the solver has test nets (it has 2); got 0']);
    expect(problems(BASE + 'test_iter: 10\ntest_interval: 100\ntest_state { stage: "a" }\n')).toEqual([]);
    expect(problems(BASE + 'test_iter: 10\ntest_iter: 10\ntest_interval: 100\ntest_state { stage: "a" }\n')).toEqual([
      '8:1: test_state: test_state must be given once per test net (2) or not at all; it is given once',
    ]);
    expect(problems(BASE.replace('net:', 'train_net:') + 'test_net: "a.prototxt"\ntest_net: "b.prototxt"\ntest_iter: 3\ntest_interval: 10\n')).toEqual([
      '7:1: test_iter: give one test_iter per test net: the solver has 2 test nets (test_net, test_net_param) but 1 test_iter value',
    ]);
    expect(problems(BASE + 'test_iter: -2\ntest_interval: 100\n')).toEqual(['5:1: test_iter[0]: test_iter must be ≥ 0, got -2']);
  });

  it.skipIf(!fs.existsSync(path.join(sharedRoot, 'corpus')))('accepts every solver of the corpus and the fixtures', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.prototxt') && /^\s*(base_lr|lr_policy)\s*:/m.test(fs.readFileSync(p, 'utf8'))) files.push(p);
      }
    };
    walk(sharedRoot);
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) expect(solverProblems(loadSolverFile(f).message).map((e) => e.oneLine), f).toEqual([]);
  });
});

function loadSolverFileFromText(text: string) {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'kdnet-validate-'));
  const file = path.join(dir, 'legacy.prototxt');
  fs.writeFileSync(file, text);
  return loadSolverFile(file);
}
