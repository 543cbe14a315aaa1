// `kdnet train` where a user meets it: the solver given as an argument or a flag, solver files checked before
// anything runs (each problem at its file:line:col), the snapshot folder checked before iteration 0.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { simulateFullDisk } from '../support/disk-full.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-train-cli-'));

const NET = `name: "tiny"
layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "t" type: "Input" top: "t" input_param { shape { dim: 2 dim: 4 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "gaussian" } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
`;

function solver(name: string, lines: string): string {
  const file = path.join(dir, `${name}.prototxt`);
  fs.writeFileSync(file, lines);
  return file;
}

const good = (prefix: string, extra = '') => `net: "${dir}/net.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 2\nsnapshot_prefix: "${prefix}"\n${extra}`;

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** Exit 1 with exactly `lines` after "error: ", nothing internal, no stack, nothing trained. */
function expectUserError(r: { code: number; stderr: string }, lines: string[]): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at |Iteration 0|Optimization Done/);
  const at = r.stderr.indexOf('error: ');
  expect(r.stderr.slice(at).trimEnd().split('\n')).toEqual(lines.map((l, i) => (i === 0 ? `error: ${l}` : l)));
}

beforeAll(async () => {
  await initBackend('cpu', true);
  fs.writeFileSync(path.join(dir, 'net.prototxt'), NET);
});

describe('the solver as an argument or a flag', () => {
  it('accepts `kdnet train SOLVER`, `--solver SOLVER`, `-solver SOLVER`, and both when they agree', async () => {
    const s = solver('forms', good(path.join(dir, 'forms', 'snap')));
    for (const argv of [[s], ['--solver', s], ['-solver', s], [s, '--solver', s]]) {
      const r = await run('train', ...argv, '--backend', 'cpu');
      expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/Optimization Done\.$/m);
    }
    expect(fs.existsSync(path.join(dir, 'forms', 'snap_iter_2.caffemodel'))).toBe(true);
  });

  it('refuses two different solvers, none, or a stray argument', async () => {
    const s = solver('two', good(path.join(dir, 'two', 'snap')));
    expectUserError(await run('train', s, '--solver', 'other.prototxt'), [
      `two solver files given: '${s}' and --solver 'other.prototxt'; give one (kdnet train SOLVER or kdnet train --solver SOLVER)`,
    ]);
    expectUserError(await run('train', '--backend', 'cpu'), ['no solver file given (kdnet train SOLVER or kdnet train --solver SOLVER)']);
    const stray = await run('train', s, 'extra.prototxt');
    expect(stray.code).toBe(1);
    expect(stray.stderr).toMatch(/too many arguments/);
  });

  it('checks its number flags', async () => {
    const s = solver('flags', good(path.join(dir, 'flags', 'snap')));
    expectUserError(await run('train', s, '--iterations', '-3'), ["--iterations must be a whole number ≥ 0, got '-3'"]);
    expectUserError(await run('train', s, '--iterations', '1e3x'), ["--iterations must be a whole number ≥ 0, got '1e3x'"]);
    expectUserError(await run('train', s, '--level', 'two'), ["--level must be a whole number ≥ 0, got 'two'"]);
  });
});

describe('solver files checked up front', () => {
  it('reports every problem of the issue\'s solver at its file:line:col, before building anything', async () => {
    const s = solver('bad', `net: "${dir}/net.prototxt"\ntype: "Adamm"\nbase_lr: nan\nlr_policy: "stepp"\nmax_iter: -1\n`);
    const r = await run('train', s, '--backend', 'cpu');
    expectUserError(r, [
      `${s}:2:1: type: unknown solver type "Adamm" (did you mean "Adam"?); known types: SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam`,
      `${s}:3:1: base_lr: base_lr must be a finite number ≥ 0, got nan`,
      `${s}:4:1: lr_policy: unknown lr_policy "stepp" (did you mean "step"?); one of fixed, step, exp, inv, multistep, poly, sigmoid`,
      `${s}:5:1: max_iter: max_iter must be ≥ 0, got -1 (it would train nothing)`,
    ]);
    expect(r.stderr).not.toMatch(/Creating training net/);
  });

  it('`kdnet check` on a solver reports the same problems', async () => {
    const s = solver('check_bad', `net: "${dir}/net.prototxt"\nbase_lr: 0.1\nlr_policy: "step"\ngamma: 0.1\nstepsize: 0\n`);
    expectUserError(await run('check', s), [`${s}:5:1: stepsize: lr_policy "step" needs stepsize > 0, got 0`]);
    const ok = await run('check', solver('check_ok', good('x')));
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('the snapshot folder, checked before iteration 0', () => {
  it('creates a missing folder, however deep', async () => {
    const prefix = path.join(dir, 'deep', 'er', 'snap');
    const r = await run('train', solver('deep', good(prefix)), '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(path.dirname(prefix)).sort()).toEqual(['snap_iter_2.caffemodel', 'snap_iter_2.kdnetstate', 'snap_iter_2.solverstate']);
  });

  it('names the snapshot_prefix line when a regular file stands in the path', async () => {
    fs.writeFileSync(path.join(dir, 'plain'), 'a file');
    const prefix = path.join(dir, 'plain', 'sub', 'snap');
    const s = solver('under_file', good(prefix, 'snapshot: 1000\n'));
    expectUserError(await run('train', s, '--backend', 'cpu'), [
      `${s}:5:1: snapshot_prefix: cannot create the snapshot folder ${path.dirname(prefix)} (snapshot prefix '${prefix}'): ${path.join(dir, 'plain')} is a regular file, not a folder`,
    ]);
  });

  const root = process.getuid?.() === 0;
  it('names the snapshot_prefix line when the folder is read-only', async (ctx) => {
    const folder = path.join(dir, 'readonly');
    fs.mkdirSync(folder);
    let mounted = false;
    if (root) {
      // Root writes through permission bits: a read-only file system is the real test (skipped where mount is not permitted).
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', folder], { stdio: 'ignore' });
        mounted = true;
      } catch {
        ctx.skip();
      }
    } else fs.chmodSync(folder, 0o555);
    try {
      const s = solver('readonly', good(path.join(folder, 'snap')));
      expectUserError(await run('train', s, '--backend', 'cpu'), [
        `${s}:5:1: snapshot_prefix: cannot write snapshots to ${folder} (snapshot prefix '${folder}/snap'): ${root ? 'read-only file system' : 'permission denied'}`,
      ]);
    } finally {
      if (mounted) execFileSync('umount', [folder]);
      else fs.chmodSync(folder, 0o755);
    }
  });

  it('removes temporary files a killed run left for this prefix, and only those', async () => {
    const folder = path.join(dir, 'stale');
    fs.mkdirSync(folder);
    const deadPid = 2 ** 22 + 4321; // above Linux's pid_max
    const stale = `.snap_iter_7.solverstate.${deadPid}.1700000000000.tmp`;
    const foreign = `.notes.txt.${deadPid}.1700000000000.tmp`;
    fs.writeFileSync(path.join(folder, stale), 'half a solver state');
    fs.writeFileSync(path.join(folder, foreign), 'someone else\'s');
    const r = await run('train', solver('stale', good(path.join(folder, 'snap'))), '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Removed ${path.join(folder, stale)}, a temporary file an interrupted snapshot left behind`);
    expect(fs.readdirSync(folder).sort()).toEqual([foreign, 'snap_iter_2.caffemodel', 'snap_iter_2.kdnetstate', 'snap_iter_2.solverstate'].sort());
  });

  it('derives an unset prefix from the solver file, and puts a folder prefix\'s files inside it (Caffe master)', async () => {
    const sub = path.join(dir, 'derived');
    fs.mkdirSync(sub);
    const s = path.join(sub, 'my_solver.prototxt');
    fs.writeFileSync(s, good('x').replace(/snapshot_prefix.*\n/, ''));
    const r = await run('train', s, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`snapshot_prefix was not specified and is set to ${path.join(sub, 'my_solver')}`);
    expect(fs.existsSync(path.join(sub, 'my_solver_iter_2.solverstate'))).toBe(true);
    const folderPrefix = path.join(dir, 'as_folder');
    fs.mkdirSync(folderPrefix);
    const s2 = solver('folder_prefix', good(folderPrefix));
    const r2 = await run('train', s2, '--backend', 'cpu');
    expect(r2.code, r2.stderr).toBe(0);
    expect(fs.existsSync(path.join(folderPrefix, 'folder_prefix_iter_2.solverstate'))).toBe(true);
  });
});

describe('--log-json', () => {
  it('on a full disk: one error naming the file, and only whole lines in it', async () => {
    const s = solver('logjson_full', good(path.join(dir, 'logjson_full', 'snap'), 'display: 1\nmax_iter: 50\nsnapshot_after_train: false\n').replace('max_iter: 2\n', ''));
    const file = path.join(dir, 'events_full.jsonl');
    const disk = simulateFullDisk(400); // two or three events
    let r;
    try {
      r = await run('train', s, '--backend', 'cpu', '--log-json', file);
    } finally {
      disk.restore();
    }
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at |Optimization Done/);
    expect(r.stderr.slice(r.stderr.indexOf('error: ')).trimEnd()).toMatch(
      new RegExp(`^error: cannot append to --log-json file ${file}: no space left on device \\(\\d+ of \\d+ bytes written\\)$`),
    );
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(JSON.parse(l).event).toBe('train');
  });

  it('names the file when it cannot be opened', async () => {
    const s = solver('logjson', good(path.join(dir, 'logjson', 'snap')));
    const file = path.join(dir, 'missing', 'events.jsonl');
    expectUserError(await run('train', s, '--backend', 'cpu', '--log-json', file), [`cannot open --log-json file ${file}: no such folder`]);
  });
});
