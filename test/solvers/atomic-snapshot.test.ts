// Killing training at any moment never leaves a corrupt snapshot: a child process snapshots every
// iteration and is SIGKILLed at varying moments, repeatedly; every .caffemodel/.solverstate left under its
// final name must load, and the newest pair must resume.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { projectRoot } from '../support/shared.js';
import { readCaffemodel } from '../../src/proto/weights.js';
import { readSolverState } from '../../src/solvers/snapshot.js';

const bin = path.join(projectRoot, 'bin', 'kdnet.js');
const built = fs.existsSync(path.join(projectRoot, 'dist', 'cli', 'main.js'));

describe.skipIf(!built)('atomic snapshots under SIGKILL', () => {
  it('leaves only complete snapshot files, whenever the process dies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-kill-'));
    // A net with ~2 MB of parameters so that writing a snapshot takes a while.
    fs.writeFileSync(
      path.join(dir, 'net.prototxt'),
      `layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 8 dim: 700 } } }
layer { name: "t" type: "Input" top: "t" input_param { shape { dim: 8 dim: 700 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 700 weight_filler { type: "gaussian" std: 0.01 } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
`,
    );
    fs.writeFileSync(
      path.join(dir, 'solver.prototxt'),
      `net: "${dir}/net.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmomentum: 0.9\nmax_iter: 100000\nsnapshot: 1\nsnapshot_prefix: "${dir}/snap"\n`,
    );
    let resumeFrom: string | undefined;
    for (let round = 0; round < 6; round++) {
      const args = [bin, 'train', '--solver', path.join(dir, 'solver.prototxt'), '--backend', 'cpu'];
      if (resumeFrom) args.push('--snapshot', resumeFrom);
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      let snaps = 0;
      const target = 2 + round; // die a little later each round, at some point inside or between writes
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        snaps = (err.match(/Snapshotting solver state/g) ?? []).length;
        if (snaps >= target && !child.killed) setTimeout(() => child.kill('SIGKILL'), round * 7);
      });
      await new Promise((resolve) => child.on('exit', resolve));
      expect(snaps, err.slice(-2000)).toBeGreaterThanOrEqual(target);
      const states = fs.readdirSync(dir).filter((f) => /^snap_iter_\d+\.solverstate$/.test(f));
      for (const f of fs.readdirSync(dir).filter((x) => /^snap_iter_\d+\.caffemodel$/.test(x))) {
        expect(() => readCaffemodel(path.join(dir, f)), f).not.toThrow();
      }
      for (const f of states) expect(readSolverState(path.join(dir, f)).iter).toBe(Number(/\d+/.exec(f)![0]));
      const newest = states.sort((a, b) => Number(/\d+/.exec(b)![0]) - Number(/\d+/.exec(a)![0]))[0]!;
      resumeFrom = path.join(dir, newest);
    }
  }, 300_000); // ~30 snapshots of 4 MB and 6 start-ups: about 125 s on two loaded shared cores
});
