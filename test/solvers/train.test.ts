// Training end to end: resume is exact, snapshots are atomic, the CLI trains with Caffe's log lines.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { initBackend } from '../../src/backend/select.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { Solver } from '../../src/solvers/solver.js';
import { setLogSink } from '../../src/log.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { readTrainingCurves } from '../../src/solvers/training-log.js';
import { writeH5, stripes } from '../support/h5.js';
import { projectRoot } from '../support/shared.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-train-'));

const netText = (batch: number) => `name: "stripes_mlp"
layer { name: "data" type: "HDF5Data" top: "data" top: "label" include { phase: TRAIN } hdf5_data_param { source: "${dir}/train.txt" batch_size: ${batch} } }
layer { name: "data" type: "HDF5Data" top: "data" top: "label" include { phase: TEST } hdf5_data_param { source: "${dir}/test.txt" batch_size: 20 } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 16 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 4 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
`;

const solverText = (type: string, maxIter: number, extra = '') => `net: "${dir}/net.prototxt"
type: "${type}"
base_lr: 0.05
momentum: 0.9
weight_decay: 0.0005
lr_policy: "step"
gamma: 0.5
stepsize: 7
max_iter: ${maxIter}
display: 5
test_iter: 2
test_interval: 10
random_seed: 3
snapshot_prefix: "${dir}/snap"
${extra}`;

beforeAll(async () => {
  await initBackend('cpu', true);
  for (const [name, n, seed] of [['train', 80, 1], ['test', 40, 2]] as const) {
    const { data, labels } = stripes(n, 4, 4, 8, seed);
    await writeH5(path.join(dir, `${name}.h5`), { data: { data, shape: [n, 1, 4, 8] }, label: { data: labels, shape: [n] } });
    fs.writeFileSync(path.join(dir, `${name}.txt`), `${dir}/${name}.h5\n`);
  }
  fs.writeFileSync(path.join(dir, 'net.prototxt'), netText(16));
});

function solverFor(type: string, maxIter: number, extra = ''): Solver {
  return new Solver(parseCaffeText(solverText(type, maxIter, extra), 'SolverParameter').message, { baseDir: dir });
}

const params = (s: Solver) => s.net.learnableParams.map((p) => Array.from(p.tensor.dataSync()));

describe('resume', () => {
  for (const type of ['SGD', 'Adam', 'AdaDelta', 'Nesterov']) {
    it(`${type}: 2N iterations in one go equal N + resume + N, bit for bit`, async () => {
      const restore = setLogSink(() => {});
      try {
        const whole = solverFor(type, 14);
        await whole.step(14);
        const expected = params(whole);
        whole.dispose();

        const first = solverFor(type, 14);
        await first.step(7);
        const { state } = first.snapshot();
        first.dispose();
        const second = solverFor(type, 14);
        second.restore(state);
        expect(second.iter).toBe(7);
        await second.step(7);
        expect(params(second)).toEqual(expected);
        second.dispose();
      } finally {
        setLogSink(restore);
      }
    });
  }
});

describe('kdnet train', () => {
  it('trains with Caffe\'s log lines, tests, snapshots, and writes --log-json', async () => {
    const solverFile = path.join(dir, 'solver.prototxt');
    fs.writeFileSync(solverFile, solverText('SGD', 30, 'snapshot: 15\n'));
    const json = path.join(dir, 'events.jsonl');
    const io = bufferIO();
    const code = await runCli(['train', '-solver', solverFile, '--backend', 'cpu', '--log-json', json], io);
    expect(code, io.stderr).toBe(0);
    const log = io.stderr;
    for (const line of [
      /^I\d{4} [\d:.]+ +\d+ kdnet\] Solving stripes_mlp$/m,
      /Learning Rate Policy: step$/m,
      /Iteration 0, Testing net \(#0\)$/m,
      /    Test net output #0: accuracy = [\d.e+-]+$/m,
      /    Test net output #1: loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)$/m,
      /Iteration 5 \([\d.e+-]+ iter\/s, [\d.e+-]+s\/5 iters\), loss = [\d.e+-]+$/m,
      /    Train net output #0: loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)$/m,
      /Iteration 10, lr = 0\.025$/m,
      /Snapshotting to binary proto file .*snap_iter_15\.caffemodel$/m,
      /Snapshotting solver state to binary proto file .*snap_iter_15\.solverstate$/m,
      /Iteration 30, loss = [\d.e+-]+$/m,
      /Optimization Done\.$/m,
    ]) {
      expect(log).toMatch(line);
    }
    expect(fs.existsSync(path.join(dir, 'snap_iter_30.caffemodel'))).toBe(true);
    const events = fs.readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === 'train').map((e) => e.iter)).toEqual([0, 5, 10, 15, 20, 25]);
    const tests = events.filter((e) => e.event === 'test');
    expect(tests.map((e) => e.iter)).toEqual([0, 10, 20, 30]);
    // The stripes are easy: the final test accuracy is high.
    expect(tests.at(-1).outputs[0].value).toBeGreaterThan(0.9);
    // Both the log and the JSON lines plot.
    const logFile = path.join(dir, 'train.log');
    fs.writeFileSync(logFile, log);
    expect(readTrainingCurves(logFile).filter((p) => p.series === 'train loss')).toHaveLength(7);
    const svg = path.join(dir, 'curves.svg');
    expect(await runCli(['plot', json, '--out', svg], bufferIO())).toBe(0);
    expect(fs.readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  });

  it('resumes from a snapshot with --snapshot', async () => {
    const solverFile = path.join(dir, 'solver_resume.prototxt');
    fs.writeFileSync(solverFile, solverText('SGD', 20, 'snapshot_after_train: true\n').replace('snap"', 'resume"'));
    expect(await runCli(['train', '--solver', solverFile, '--backend', 'cpu', '--iterations', '10'], bufferIO())).toBe(0);
    const io = bufferIO();
    expect(await runCli(['train', '--solver', solverFile, '--backend', 'cpu', '--snapshot', path.join(dir, 'resume_iter_10.solverstate')], io)).toBe(0);
    expect(io.stderr).toMatch(/Restoring previous solver status from .*resume_iter_10\.solverstate/);
    expect(io.stderr).not.toMatch(/Iteration 5 /);
    expect(fs.existsSync(path.join(dir, 'resume_iter_20.solverstate'))).toBe(true);
  });

  it('stops cleanly on SIGINT with a snapshot (Caffe\'s default effect)', async () => {
    const solverFile = path.join(dir, 'solver_long.prototxt');
    fs.writeFileSync(solverFile, solverText('SGD', 1000000, '').replace('snap"', 'sigint"').replace('display: 5', 'display: 1'));
    const bin = path.join(projectRoot, 'bin', 'kdnet.js');
    if (!fs.existsSync(path.join(projectRoot, 'dist', 'cli', 'main.js'))) return; // needs `npm run build`
    const child = spawn(process.execPath, [bin, 'train', '--solver', solverFile, '--backend', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (/Iteration 3 \(/.test(err) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    expect(err).toMatch(/Optimization stopped early\./);
    const snaps = fs.readdirSync(dir).filter((f) => f.startsWith('sigint_iter_') && f.endsWith('.solverstate'));
    expect(snaps).toHaveLength(1);
  });
});

describe('HDF5 snapshots (snapshot_format: HDF5)', () => {
  it('writes Caffe\'s layout and resumes from it exactly', async () => {
    const restore = setLogSink(() => {});
    try {
      const extra = 'snapshot_format: HDF5\n';
      const whole = solverFor('Adam', 14, extra);
      await whole.step(14);
      const expected = params(whole);
      whole.dispose();
      const first = solverFor('Adam', 14, extra);
      await first.step(7);
      const { model, state } = first.snapshot();
      first.dispose();
      expect(model).toMatch(/_iter_7\.caffemodel\.h5$/);
      expect(state).toMatch(/_iter_7\.solverstate\.h5$/);
      const h5wasm = (await import('h5wasm/node')).default;
      const f = new h5wasm.File(model, 'r');
      expect(f.keys()).toEqual(['data']);
      expect((f.get('data') as any).keys().sort()).toEqual(['accuracy', 'data', 'ip1', 'ip2', 'loss', 'relu1'].filter((n) => n !== 'accuracy'));
      expect((f.get('data/ip1/0') as any).shape).toEqual([16, 32]);
      f.close();
      const s = new h5wasm.File(state, 'r');
      expect(Array.from((s.get('iter') as any).value)).toEqual([7]);
      expect((s.get('history') as any).keys()).toHaveLength(8); // Adam: m and v for 4 params
      s.close();
      const second = solverFor('Adam', 14, extra);
      second.restore(state);
      await second.step(7);
      expect(params(second)).toEqual(expected);
      second.dispose();
    } finally {
      setLogSink(restore);
    }
  });
});

describe('debug_info', () => {
  it('logs per-blob mean magnitudes in forward, backward and update, on display iterations', async () => {
    const lines: string[] = [];
    const restore = setLogSink((_, m) => lines.push(m));
    try {
      const s = solverFor('SGD', 2, 'debug_info: true\ntest_interval: 0\n'.replace('test_interval: 0\n', ''));
      s.param.display = 1;
      s.param.test_interval = 0;
      await s.step(1);
      s.dispose();
    } finally {
      setLogSink(restore);
    }
    expect(lines).toContainEqual(expect.stringMatching(/^    \[Forward\] Layer ip1, top blob ip1 data: [\d.e+-]+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^    \[Forward\] Layer ip1, param blob 0 data: [\d.e+-]+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^    \[Backward\] Layer ip2, bottom blob ip1 diff: [\d.e+-]+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^    \[Backward\] Layer ip1, param blob 1 diff: [\d.e+-]+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^    \[Update\] Layer ip2, param 0 data: [\d.e+-]+; diff: [\d.e+-]+$/));
  });
});

describe('divergence and signals', () => {
  it('stops on a non-finite loss naming the iteration and the first non-finite layer, keeping the last snapshot', async () => {
    const solverFile = path.join(dir, 'solver_nan.prototxt');
    fs.writeFileSync(solverFile, solverText('SGD', 200, 'snapshot: 1\n').replace('base_lr: 0.05', 'base_lr: 1e30').replace('snap"', 'nan"'));
    const io = bufferIO();
    const code = await runCli(['train', '--solver', solverFile, '--backend', 'cpu'], io);
    expect(code).toBe(1);
    expect(io.stderr).toMatch(/error: .*loss became (NaN|Infinity|-Infinity) at iteration \d+; the first non-finite output is blob '\w+' of layer "\w+"/);
    const snaps = fs.readdirSync(dir).filter((f) => /^nan_iter_\d+\.caffemodel$/.test(f));
    expect(snaps.length).toBeGreaterThan(0);
  });

  it('snapshots on SIGHUP and keeps training (Caffe\'s default sighup_effect)', async () => {
    const solverFile = path.join(dir, 'solver_hup.prototxt');
    fs.writeFileSync(solverFile, solverText('SGD', 1000000, '').replace('snap"', 'hup"').replace('display: 5', 'display: 1').replace('test_iter: 2\ntest_interval: 10\n', '')); // no test net (Caffe refuses test_interval: 0 with one)
    const bin = path.join(projectRoot, 'bin', 'kdnet.js');
    if (!fs.existsSync(path.join(projectRoot, 'dist', 'cli', 'main.js'))) return; // needs `npm run build`
    const child = spawn(process.execPath, [bin, 'train', '--solver', solverFile, '--backend', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let hupSent = false;
    let intSent = false; // (child.killed turns true after any signal, SIGHUP included)
    child.stderr.on('data', (d) => {
      err += d;
      if (!hupSent && /Iteration 3 \(/.test(err)) {
        hupSent = true;
        child.kill('SIGHUP');
      }
      if (hupSent && !intSent && /Snapshotting solver state/.test(err) && /Iteration \d+ \(/.test(err.split('Snapshotting solver state')[1] ?? '')) {
        intSent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err.slice(-2000)).toBe(0);
    const snaps = fs.readdirSync(dir).filter((f) => f.startsWith('hup_iter_') && f.endsWith('.solverstate'));
    expect(snaps.length).toBe(2); // one for SIGHUP while training went on, one when SIGINT stopped it
    expect(err).toMatch(/Optimization stopped early\./);
  });
});

describe('several test nets', () => {
  it('builds one test net per test_state and tests each (Testing net #0, #1)', async () => {
    const lines: string[] = [];
    const restore = setLogSink((_, m) => lines.push(m));
    try {
      const text = solverText('SGD', 2, 'test_iter: 1\ntest_state { stage: "a" }\ntest_state { stage: "b" }\n');
      const s = new Solver(parseCaffeText(text, 'SolverParameter').message, { baseDir: dir });
      expect(s.testNets).toHaveLength(2);
      s.testAll();
      s.dispose();
    } finally {
      setLogSink(restore);
    }
    expect(lines).toContain('Iteration 0, Testing net (#0)');
    expect(lines).toContain('Iteration 0, Testing net (#1)');
    expect(lines.filter((l) => /^    Test net output #0: accuracy = /.test(l))).toHaveLength(2);
  });

  it('rejects a test_iter count that does not match the test nets', () => {
    const text = solverText('SGD', 2, 'test_state { stage: "a" }\ntest_state { stage: "b" }\n');
    expect(() => new Solver(parseCaffeText(text, 'SolverParameter').message, { baseDir: dir })).toThrow(/test_state must be given once per test net \(1\)/);
  });
});
