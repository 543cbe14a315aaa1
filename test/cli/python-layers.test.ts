// --layers-path on check, train, test, time and forward; check's report of Python layers without a port; a
// user's exception as one exit-1 message.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { projectRoot } from '../support/shared.js';

const example = path.join(projectRoot, 'models', 'js_layers');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-pylayer-cli-'));
const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-pylayer-empty-'));
/** The example net away from its modules, so only --layers-path can find them. */
const net = path.join(dir, 'train_test.prototxt');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

const expectUserError = (r: { code: number; stderr: string }) => {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).not.toMatch(/\n\s+at /);
};

beforeAll(async () => {
  await initBackend('cpu', true);
  fs.copyFileSync(path.join(example, 'train_test.prototxt'), net);
});

describe('kdnet check with Python layers', () => {
  it('fails listing every Python layer without a port, with its module, class and the folders searched', async () => {
    const r = await run('check', net, '--layers-path', empty);
    expectUserError(r);
    expect(r.stdout).toMatch(/data +Python \(fashion_data\.FashionMnistData: no JS port\) +- +data,label +TRAIN +\? \?/);
    expect(r.stdout).toContain('Python (js_losses.SoftmaxCrossEntropyLoss: no JS port)');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    const searched = `in ${empty}, ${dir}; give its folder with --layers-path DIR or KDNET_LAYERS_PATH`;
    expect(lines[0]).toBe(
      `error: ${net}:11:3: layer "data" (Python).python_param: no JavaScript port of Python module 'fashion_data' (class FashionMnistData): ` +
        `looked for fashion_data.js, fashion_data.mjs, fashion_data.cjs ${searched}`,
    );
    expect(lines[1]).toMatch(new RegExp(`^${net}:\\d+:3: layer "data" \\(Python\\)\\.python_param: no JavaScript port of Python module 'fashion_data'`));
    expect(lines[2]).toContain(`layer "loss" (Python).python_param: no JavaScript port of Python module 'js_losses' (class SoftmaxCrossEntropyLoss): looked for js_losses.js, js_losses.mjs, js_losses.cjs ${searched}`);
  });

  it('passes when every port is found: on --layers-path, on KDNET_LAYERS_PATH, or beside the net; shapes stay unknown', async () => {
    const r = await run('check', net, '--layers-path', empty, '--layers-path', example, '--phase', 'TRAIN');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/data +Python \(fashion_data\.FashionMnistData\) +- +data,label +TRAIN +\? \?/);
    expect(r.stdout).toMatch(/loss +Python \(js_losses\.SoftmaxCrossEntropyLoss\) +ip2,label +loss/);
    const saved = process.env.KDNET_LAYERS_PATH;
    process.env.KDNET_LAYERS_PATH = `${empty}${path.delimiter}${example}`;
    try {
      expect((await run('check', net)).code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.KDNET_LAYERS_PATH;
      else process.env.KDNET_LAYERS_PATH = saved;
    }
    const beside = await run('check', path.join(example, 'train_test.prototxt'));
    expect(beside.code, beside.stderr).toBe(0);
    // Shapes the user knows make the rest of the table known.
    const shaped = await run('check', net, '--layers-path', example, '--phase', 'TRAIN', '--input-shape', 'data=64,1,28,28', '--input-shape', 'label=64');
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(shaped.stdout).toMatch(/ip2 +InnerProduct +ip1 +ip2 +both +64x10 /);
  });
});

describe('--layers-path on the engine commands', () => {
  it('test, time and forward run the example net with its JavaScript layers', async () => {
    const test = await run('test', '--model', net, '--layers-path', example, '--iterations', '2', '--backend', 'cpu');
    expect(test.code, test.stderr).toBe(0);
    expect(test.stderr).toMatch(/kdnet\] Batch 1, accuracy = [\d.e+-]+$/m);
    expect(test.stderr).toMatch(/kdnet\] loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)$/m);

    const time = await run('time', '--model', net, '--layers-path', example, '--iterations', '1', '--backend', 'cpu');
    expect(time.code, time.stderr).toBe(0);
    expect(time.stderr).toMatch(/ +data\tforward: [\d.e+-]+ ms\./);
    expect(time.stderr).toMatch(/ +loss\tbackward: [\d.e+-]+ ms\./);

    const out = path.join(dir, 'dump');
    const forward = await run('forward', '--model', net, `--layers-path=${empty}${path.delimiter}${example}`, '--phase', 'TRAIN', '--backward', '--dump', out, '--backend', 'cpu');
    expect(forward.code, forward.stderr).toBe(0);
    const loss = Number(/^loss = ([\d.e+-]+)$/m.exec(forward.stdout)![1]);
    expect(loss).toBeGreaterThan(1.5);
    expect(loss).toBeLessThan(4);
    expect(fs.existsSync(path.join(out, 'ip2.diff.npy'))).toBe(true);
  });

  it('a missing port or a failing port stops train with one message and exit 1', async () => {
    const solver = path.join(dir, 'solver.prototxt');
    fs.writeFileSync(solver, `net: "${net}"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 2\nsnapshot_after_train: false\n`);
    const missing = await run('train', '--solver', solver, '--backend', 'cpu');
    expectUserError(missing);
    expect(missing.stderr).toContain(`layer "data" (Python).python_param: no JavaScript port of Python module 'fashion_data'`);

    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    fs.copyFileSync(path.join(example, 'js_losses.mjs'), path.join(broken, 'js_losses.mjs'));
    fs.writeFileSync(path.join(broken, 'fashion_data.mjs'), fs.readFileSync(path.join(example, 'fashion_data.mjs'), 'utf8').replace("this.param_str || '{}'", "'{not json'"));
    const failing = await run('train', '--solver', solver, '--layers-path', broken, '--backend', 'cpu');
    expectUserError(failing);
    expect(failing.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(failing.stderr).toMatch(/layer "data" \(Python\)\.python_param: FashionMnistData\.setup threw: SyntaxError: .*JSON.* \(at .*broken\/fashion_data\.mjs:\d+:\d+\)/);
  });
});
