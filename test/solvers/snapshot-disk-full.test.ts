// A full disk during a snapshot: `kdnet train` fails with one error naming the snapshot file and the cause,
// no truncated file is left under a final name (an older file of that name stays as it was), the temporary
// file is removed, and the last complete snapshot is intact and resumes. Shown twice: on a simulated disk
// (fs.writeSync spent after N bytes, runs anywhere) and on a real 1 MiB tmpfs (when mount is permitted).
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli } from '../../src/cli/main.js';
import { bufferIO, type CliIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { readCaffemodel } from '../../src/proto/weights.js';
import { readSolverState } from '../../src/solvers/snapshot.js';
import { readSolverStateHdf5 } from '../../src/solvers/snapshot-hdf5.js';
import { mountSmallTmpfs, simulateFullDisk } from '../support/disk-full.js';
import { projectRoot } from '../support/shared.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-disk-full-'));

// 50,100 parameters: a .caffemodel of ~200 kB, an Adam .solverstate (two history sets) of ~400 kB.
const NET = `name: "wide"
layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 500 } } }
layer { name: "t" type: "Input" top: "t" input_param { shape { dim: 2 dim: 100 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 100 weight_filler { type: "gaussian" std: 0.01 } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
`;

function solverFile(name: string, prefix: string, extra = ''): string {
  const file = path.join(dir, `${name}.prototxt`);
  fs.writeFileSync(file, `net: "${dir}/net.prototxt"\ntype: "Adam"\nbase_lr: 0.001\nmomentum: 0.9\nlr_policy: "fixed"\nmax_iter: 5\nsnapshot: 1\nsnapshot_prefix: "${prefix}"\n${extra}`);
  return file;
}

async function train(argv: string[], io: CliIO & { stderr: string } = bufferIO()) {
  const code = await runCli(['train', ...argv, '--backend', 'cpu'], io);
  return { code, stderr: io.stderr };
}

const temporaries = (folder: string) => fs.readdirSync(folder).filter((f) => f.endsWith('.tmp'));

/** One clear error line, no internal error, no stack. */
function expectOneCleanError(stderr: string): string {
  expect(stderr).not.toMatch(/internal error|\n\s+at |HDF5-DIAG/);
  const errors = stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors, stderr.slice(-1500)).toHaveLength(1);
  return errors[0]!;
}

beforeAll(async () => {
  await initBackend('cpu', true);
  fs.writeFileSync(path.join(dir, 'net.prototxt'), NET);
});

describe('full disk during a snapshot (simulated, runs everywhere)', () => {
  it('binary snapshots: no truncated .solverstate, the older file of that name and the last snapshot intact', async () => {
    const folder = path.join(dir, 'bin');
    fs.mkdirSync(folder);
    const prefix = path.join(folder, 'snap');
    fs.writeFileSync(`${prefix}_iter_2.solverstate`, 'left by an older run');
    const solver = solverFile('bin', prefix);
    const disk = simulateFullDisk(1_000_000); // iteration 1's snapshot fits, iteration 2's .solverstate does not
    let r;
    try {
      r = await train([solver]);
    } finally {
      disk.restore();
    }
    expect(r.code).toBe(1);
    const line = expectOneCleanError(r.stderr);
    expect(line).toMatch(
      new RegExp(
        `^error: cannot write ${prefix}_iter_2\\.solverstate: no space left on device \\([\\d,]+ of [\\d,]+ bytes written\\); ` +
          `the last complete snapshot, ${prefix}_iter_1\\.solverstate, is intact \\(resume with --snapshot ${prefix}_iter_1\\.solverstate\\)$`,
      ),
    );
    expect(fs.readFileSync(`${prefix}_iter_2.solverstate`, 'utf8')).toBe('left by an older run');
    expect(temporaries(folder)).toEqual([]);
    expect(readSolverState(`${prefix}_iter_1.solverstate`).iter).toBe(1);
    expect(() => readCaffemodel(`${prefix}_iter_1.caffemodel`)).not.toThrow();
    // The intact snapshot resumes.
    const resumed = await train([solver, '--snapshot', `${prefix}_iter_1.solverstate`, '--iterations', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readSolverState(`${prefix}_iter_2.solverstate`).iter).toBe(2);
  });

  it('HDF5 snapshots: the same, though h5wasm itself would only print the failure', async () => {
    const folder = path.join(dir, 'h5');
    fs.mkdirSync(folder);
    const prefix = path.join(folder, 'snap');
    const solver = solverFile('h5', prefix, 'snapshot_format: HDF5\n');
    const disk = simulateFullDisk(1_000_000);
    let r;
    try {
      r = await train([solver]);
    } finally {
      disk.restore();
    }
    expect(r.code).toBe(1);
    expect(expectOneCleanError(r.stderr)).toBe(
      `error: cannot write ${prefix}_iter_2.solverstate.h5: no space left on device; the last complete snapshot, ${prefix}_iter_1.solverstate.h5, is intact (resume with --snapshot ${prefix}_iter_1.solverstate.h5)`,
    );
    expect(disk.stderr()).not.toContain('HDF5-DIAG'); // HDF5's 100-line error stack is held back
    expect(fs.existsSync(`${prefix}_iter_2.solverstate.h5`)).toBe(false);
    expect(temporaries(folder)).toEqual([]);
    expect(readSolverStateHdf5(`${prefix}_iter_1.solverstate.h5`).iter).toBe(1);
  });

  it('the snapshot Ctrl-C asks for fails just as cleanly', async () => {
    const folder = path.join(dir, 'sigint');
    fs.mkdirSync(folder);
    const prefix = path.join(folder, 'snap');
    const solver = solverFile('sigint', prefix, 'display: 1\n');
    fs.writeFileSync(solver, fs.readFileSync(solver, 'utf8').replace('max_iter: 5', 'max_iter: 1000000').replace('snapshot: 1', 'snapshot: 0'));
    const io = bufferIO();
    let interrupted = false;
    const err = io.err.bind(io);
    io.err = (t: string) => {
      err(t);
      if (!interrupted && /Iteration 2 \(/.test(t)) {
        interrupted = true;
        process.emit('SIGINT'); // what Ctrl-C delivers to kdnet's handler
      }
    };
    const disk = simulateFullDisk(100_000); // less than one .caffemodel
    let r;
    try {
      r = await train([solver], io);
    } finally {
      disk.restore();
    }
    expect(interrupted).toBe(true);
    expect(r.code).toBe(1);
    expect(expectOneCleanError(r.stderr)).toMatch(new RegExp(`^error: cannot write ${prefix}_iter_3\\.caffemodel: no space left on device \\(100,000 of [\\d,]+ bytes written\\)$`));
    expect(fs.readdirSync(folder)).toEqual([]);
  });
});

// A real full file system (where mounting is permitted; elsewhere these tests skip).
const tmpfs = path.join(dir, 'tmpfs');
fs.mkdirSync(tmpfs);
const mounted = mountSmallTmpfs(tmpfs, '1m');

describe.skipIf(!mounted)('full disk during a snapshot (a 1 MiB tmpfs)', () => {
  const clear = () => {
    for (const f of fs.readdirSync(tmpfs)) fs.rmSync(path.join(tmpfs, f), { recursive: true });
  };

  for (const format of ['BINARYPROTO', 'HDF5'] as const) {
    it(`${format}: fails at iteration 2's solver state with one error, keeping iteration 1's snapshot`, async () => {
      clear();
      const prefix = path.join(tmpfs, 'snap');
      const h5 = format === 'HDF5' ? '.h5' : '';
      const r = await train([solverFile(`tmpfs_${format}`, prefix, `snapshot_format: ${format}\n`)]);
      expect(r.code).toBe(1);
      expect(expectOneCleanError(r.stderr)).toMatch(new RegExp(`^error: cannot write ${prefix}_iter_2\\.solverstate${h5.replace('.', '\\.')}: no space left on device.*is intact`));
      expect(fs.readdirSync(tmpfs).sort()).toEqual([`snap_iter_1.caffemodel${h5}`, 'snap_iter_1.kdnetstate', `snap_iter_1.solverstate${h5}`, `snap_iter_2.caffemodel${h5}`, 'snap_iter_2.kdnetstate'].sort());
      const state = h5 ? readSolverStateHdf5(`${prefix}_iter_1.solverstate.h5`) : readSolverState(`${prefix}_iter_1.solverstate`);
      expect(state.iter).toBe(1);
    });
  }

  const built = fs.existsSync(path.join(projectRoot, 'dist', 'cli', 'main.js'));
  it.skipIf(!built)('a real Ctrl-C on a full disk: one error, exit 1, nothing left behind', async () => {
    clear();
    fs.writeFileSync(path.join(tmpfs, 'filler'), Buffer.alloc(900_000)); // ~150 kB left: less than a .caffemodel
    const prefix = path.join(tmpfs, 'snap');
    const solver = solverFile('tmpfs_sigint', prefix, 'display: 1\n');
    fs.writeFileSync(solver, fs.readFileSync(solver, 'utf8').replace('max_iter: 5', 'max_iter: 1000000').replace('snapshot: 1', 'snapshot: 0'));
    const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'kdnet.js'), 'train', solver, '--backend', 'cpu'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (!sent && /Iteration 2 \(/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr.slice(-1500)).toBe(1);
    expect(expectOneCleanError(stderr)).toMatch(new RegExp(`^error: cannot write ${prefix}_iter_\\d+\\.caffemodel: no space left on device \\([\\d,]+ of [\\d,]+ bytes written\\)$`));
    expect(fs.readdirSync(tmpfs)).toEqual(['filler']);
  });
});
