// `kdnet check` and `kdnet upgrade` end to end through the CLI entry point.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { projectRoot } from '../support/shared.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { caffeEnum } from '../../src/proto/schema.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-cli-'));
const lenet = path.join(projectRoot, 'models/lenet/lenet_train_test.prototxt');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

describe('kdnet check', () => {
  it('prints format, upgrades and the layer table with phases', async () => {
    const r = await run('check', lenet);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${lenet}: net "LeNet", V2 format\nupgrades: none needed\n11 layers\n`);
    expect(r.stdout).toMatch(/^0\s+data\s+Data\s+-\s+data,label\s+TRAIN\s/m);
    expect(r.stdout).toMatch(/^1\s+data\s+Data\s+-\s+data,label\s+TEST\s/m);
    expect(r.stdout).toMatch(/^9\s+accuracy\s+Accuracy\s+ip2,label\s+accuracy\s+TEST\s/m);
    expect(r.stdout).toMatch(/^10\s+loss\s+SoftmaxWithLoss\s+ip2,label\s+loss\s+both\s/m);
  });

  it('filters by phase with Caffe-style single-dash flags too', async () => {
    const r = await run('check', lenet, '-phase', 'TRAIN');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('9 layers\n');
    expect(r.stdout).not.toMatch(/accuracy/);
  });

  it('checks a solver statically: a missing net file is a warning, not an error', async () => {
    const f = path.join(dir, 'solver.prototxt');
    fs.writeFileSync(f, 'net: "does/not/exist.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 10\nsolver_type: ADAM\n');
    const r = await run('check', f);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${f}: solver\nupgrades: solver-type\n`);
    expect(r.stdout).toContain("warning: net 'does/not/exist.prototxt' does not exist");
    expect(r.stdout).toMatch(/^type\s+Adam$/m);
    expect(r.stderr).toContain('solver_type');
  });

  it('exits 0 on --help and 1 on an unknown option', async () => {
    expect((await run('--help')).code).toBe(0);
    expect((await run('check', '--frobnicate', lenet)).code).toBe(1);
  });
});

describe('kdnet upgrade', () => {
  it('upgrades a V1 net to canonical V2 text, atomically to a file, logging each step', async () => {
    const v1 = path.join(dir, 'v1.prototxt');
    fs.writeFileSync(
      v1,
      `name: "tiny"
layers { name: "data" type: DATA top: "data" top: "label" data_param { source: "db" batch_size: 4 scale: 0.5 } }
layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip" blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  inner_product_param { num_output: 3 } }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" }
`,
    );
    const out = path.join(dir, 'v2.prototxt');
    const r = await run('upgrade', v1, out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/V1/);
    const text = fs.readFileSync(out, 'utf8');
    const net = parseCaffeText(text, 'NetParameter').message;
    expect(net.layers).toHaveLength(0);
    expect(net.layer.map((l: { type: string }) => l.type)).toEqual(['Data', 'InnerProduct', 'SoftmaxWithLoss']);
    expect(net.layer[0].transform_param.scale).toBeCloseTo(0.5);
    expect(net.layer[1].param.map((p: { lr_mult: number; decay_mult: number }) => [p.lr_mult, p.decay_mult])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    expect(text).toContain('layer {\n  name: "ip"\n  type: "InnerProduct"\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('maps the forks\' pooling ceil_mode to master\'s round_mode', async () => {
    const f = path.join(dir, 'ceil.prototxt');
    fs.writeFileSync(f, 'layer { name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 ceil_mode: false } }\n');
    const r = await run('upgrade', f);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('round_mode: FLOOR');
    expect(r.stdout).not.toContain('ceil_mode');
    const net = parseCaffeText(r.stdout, 'NetParameter').message;
    expect(net.layer[0].pooling_param.round_mode).toBe(caffeEnum('PoolingParameter.RoundMode').values.FLOOR);
  });
});

describe('kdnet upgrade --binary', () => {
  it('turns a V1 .caffemodel into a V2 one with the same blobs', async () => {
    const { newMessage, caffeType } = await import('../../src/proto/schema.js');
    const v1 = newMessage('NetParameter', { name: 'old' });
    v1.layers = [
      newMessage('V1LayerParameter', {
        name: 'conv1',
        type: caffeEnum('V1LayerParameter.LayerType').values.CONVOLUTION,
        blobs: [newMessage('BlobProto', { num: 2, channels: 1, height: 3, width: 3, data: [...Array(18).keys()] })],
        blobs_lr: [1, 2],
      }),
    ];
    const inFile = path.join(dir, 'old.caffemodel');
    fs.writeFileSync(inFile, caffeType('NetParameter').encode(v1).finish());
    const outFile = path.join(dir, 'new.caffemodel');
    const r = await run('upgrade', '--binary', inFile, outFile);
    expect(r.code, r.stderr).toBe(0);
    const v2 = caffeType('NetParameter').decode(fs.readFileSync(outFile)) as unknown as Record<string, any>;
    expect(v2.layers).toHaveLength(0);
    expect(v2.layer[0].name).toBe('conv1');
    expect(v2.layer[0].type).toBe('Convolution');
    expect(v2.layer[0].blobs[0].data).toHaveLength(18);
    expect(Number(v2.layer[0].blobs[0].channels)).toBe(1);
    expect((await run('upgrade', '--binary', inFile)).code).toBe(1);
  });
});
