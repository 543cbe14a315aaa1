// kdnet forward / test / time / device_query through the CLI entry point.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { encodeNpy, readNpy } from '../../src/util/npy.js';
import { fixturesRoot, hasFixtures } from '../support/shared.js';
import { initBackend } from '../../src/backend/select.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-engine-cli-'));

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

const NET = `name: "tiny"
layer { name: "in_x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "in_label" type: "Input" top: "label" input_param { shape { dim: 2 } } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "gaussian" } } }
layer { name: "acc" type: "Accuracy" bottom: "y" bottom: "label" top: "accuracy" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "y" bottom: "label" top: "loss" }
`;

beforeAll(async () => {
  await initBackend('cpu', true);
  fs.writeFileSync(path.join(dir, 'net.prototxt'), NET);
});

describe('kdnet forward', () => {
  it.skipIf(!hasFixtures)('reproduces a Caffe fixture and dumps blobs, diffs and param diffs as NCHW .npy', async () => {
    const c = path.join(fixturesRoot, 'layers', 'conv_basic');
    const out = path.join(dir, 'dump');
    const r = await run('forward', '--model', path.join(c, 'net.prototxt'), '--weights', path.join(c, 'net.caffemodel'), '--input', `x=${path.join(c, 'in.x.npy')}`, '--top-diff', `y=${path.join(c, 'topdiff.y.npy')}`, '--backward', '--dump', out, '--phase', 'TRAIN', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const got = readNpy(path.join(out, 'y.npy'));
    const want = readNpy(path.join(c, 'out.y.npy'));
    expect(got.shape).toEqual([2, 4, 7, 6]);
    got.data.forEach((v, i) => expect(Math.abs(v - want.data[i]!)).toBeLessThan(1e-4 + 1e-3 * Math.abs(want.data[i]!)));
    for (const [dumped, fixture] of [['x.diff.npy', 'diff.x.npy'], ['conv.param0.diff.npy', 'pdiff.conv.0.npy'], ['conv.param1.diff.npy', 'pdiff.conv.1.npy']]) {
      const a = readNpy(path.join(out, dumped!));
      const b = readNpy(path.join(c, fixture!));
      expect(a.shape).toEqual(b.shape);
      a.data.forEach((v, i) => expect(Math.abs(v - b.data[i]!)).toBeLessThan(1e-4 + 1e-3 * Math.abs(b.data[i]!)));
    }
  });

  it('prints the loss of each loss top and names a missing input', async () => {
    fs.writeFileSync(path.join(dir, 'x.npy'), encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]));
    fs.writeFileSync(path.join(dir, 'label.npy'), encodeNpy(new Float32Array([0, 3]), [2]));
    const r = await run('forward', '--model', path.join(dir, 'net.prototxt'), '--input', `x=${path.join(dir, 'x.npy')}`, '--input', `label=${path.join(dir, 'label.npy')}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)\nloss = [\d.e+-]+\n$/);
    const missing = await run('forward', '--model', path.join(dir, 'net.prototxt'), '--input', `x=${path.join(dir, 'x.npy')}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no --input given for input blob label');
  });
});

describe('kdnet test and time', () => {
  it('test prints per-batch outputs and Caffe\'s mean lines', async () => {
    const r = await run('test', '--model', path.join(dir, 'net.prototxt'), '--iterations', '3', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kdnet\] Running for 3 iterations\.$/m);
    expect(r.stderr).toMatch(/kdnet\] Batch 2, accuracy = [\d.e+-]+$/m);
    expect(r.stderr).toMatch(/kdnet\] Loss: [\d.e+-]+$/m);
    expect(r.stderr).toMatch(/kdnet\] loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)$/m);
  });

  it('time prints per-layer forward/backward and the averages', async () => {
    const r = await run('time', '--model', path.join(dir, 'net.prototxt'), '--iterations', '2', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    for (const re of [/Initial loss: /, /\*\*\* Benchmark begins \*\*\*/, /Iteration: 2 forward-backward time: \d+ ms\./, /        ip\tforward: [\d.e+-]+ ms\./, /        ip\tbackward: [\d.e+-]+ ms\./, /Average Forward pass: [\d.e+-]+ ms\./, /Average Backward pass: /, /Average Forward-Backward: /, /Total Time: /, /\*\*\* Benchmark ends \*\*\*/]) {
      expect(r.stderr).toMatch(re);
    }
  });

  it('device_query names the backend', async () => {
    const r = await run('device_query', '--backend', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend +cpu/m);
    expect(r.stdout).toMatch(/^memory +[\d.]+ GiB total/m);
  });

  it('accepts -gpu with a warning when there is no GPU', async () => {
    const r = await run('test', '-model', path.join(dir, 'net.prototxt'), '-iterations', '1', '-gpu', '0', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^W\d{4} .* -gpu 0 ignored: no GPU backend is present/m);
  });
});
