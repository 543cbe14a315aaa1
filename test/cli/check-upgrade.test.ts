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

// Issue 10: `kdnet check` catches what Caffe's Net::Init catches, statically, with one message per problem.
describe('kdnet check: what Net::Init would refuse', () => {
  let n = 0;
  const write = (text: string) => {
    const f = path.join(dir, `net${++n}.prototxt`);
    fs.writeFileSync(f, text);
    return f;
  };
  const input = 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n';
  const fails = async (f: string) => {
    const r = await run('check', f);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|    at /);
    return r.stderr;
  };

  it('an unknown bottom: layer, index, blob, position and a did-you-mean; train and forward say the same', async () => {
    const f = write(`${input}layer { name: "relu" type: "ReLU" bottom: "dta" top: "r" }\n`);
    const line = `${f}:2:35: layer "relu": unknown bottom blob 'dta' (bottom index 0): no earlier layer produces it; did you mean 'data'?`;
    expect(await fails(f)).toBe(`error: ${line}\n`);
    const forward = await run('forward', '--model', f);
    expect(forward.code).toBe(1);
    expect(forward.stderr).toContain(line);
  });

  it('a bottom produced only later names the layer producing it', async () => {
    const f = write(`${input}layer { name: "a" type: "Eltwise" bottom: "data" bottom: "b" top: "a" }\nlayer { name: "b" type: "ReLU" bottom: "a" top: "b" }\n`);
    expect(await fails(f)).toBe(
      `error: ${f}:2:50: layer "a": unknown bottom blob 'b' (bottom index 1): it is produced only later, by layer "b" (line 3): a layer can only read blobs of layers above it\n`,
    );
  });

  it('a top produced by two layers that are not in place', async () => {
    const f = write(`${input}layer { name: "r1" type: "ReLU" bottom: "data" top: "y" }\nlayer { name: "r2" type: "ReLU" bottom: "data" top: "y" }\n`);
    expect(await fails(f)).toContain(`${f}:3:48: layer "r2": top blob 'y' (top index 0) is produced by multiple sources: layer "r1" already produces it`);
  });

  it('layers without the bottoms their type needs: every one named, no internal error', async () => {
    const f = write(`${input}layer { name: "relu" type: "ReLU" top: "r" }\nlayer { name: "cat" type: "Concat" top: "c" concat_param { axis: 1 } }\nlayer { name: "loss" type: "SoftmaxWithLoss" top: "l" }\n`);
    expect(await fails(f)).toBe(
      `error: ${f}:2:7: layer "relu": ReLU takes 1 bottom blob(s), got 0\n` +
        `${f}:3:7: layer "cat": Concat takes at least 1 bottom blob(s), got 0\n` +
        `${f}:4:7: layer "loss": SoftmaxWithLoss takes 2 bottom blob(s), got 0\n`,
    );
  });

  it('an Input with a shape count that matches neither one nor its tops', async () => {
    const f = write('layer { name: "in" type: "Input" top: "a" top: "b" input_param { shape { dim: 1 } shape { dim: 2 } shape { dim: 3 } } }\n');
    expect(await fails(f)).toBe(`error: ${f}:1:52: layer "in" (Input).input_param: input_param has 3 shapes for 2 tops (give one, or one per top)\n`);
  });

  it('names the phase when only one phase has the problem', async () => {
    const f = write(`layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "acc" type: "Accuracy" bottom: "ip" bottom: "lable" top: "acc" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" include { phase: TRAIN } }
`);
    expect(await fails(f)).toBe(
      `error: ${f}:3:51: layer "acc": unknown bottom blob 'lable' (bottom index 1): no earlier layer produces it; did you mean 'label'? (in the TEST net)\n`,
    );
  });

  it("warns, not fails, for a phase the file's rules never build (a deploy net whose data layer is TEST-only)", async () => {
    const f = write(`layer { name: "data" type: "Input" top: "data" include { phase: TEST } input_param { shape { dim: 1 dim: 3 } } }
layer { name: "relu" type: "ReLU" bottom: "data" top: "r" }
`);
    const r = await run('check', f);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `warning: ${f}:2:35: layer "relu": unknown bottom blob 'data' (bottom index 0): no earlier layer produces it (in the TRAIN net; the file's phase rules name only TEST, so it may never be built for TRAIN)`,
    );
  });

  it('absurd sizes are errors naming the layer and field, and nothing is allocated', async () => {
    const f = write(`${input}layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 4000000000 } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 2147483648 } }
layer { name: "d" type: "DummyData" top: "d" dummy_data_param { shape { dim: -1 dim: 3 } } }
`);
    const lines = (await fails(f)).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      `error: ${f}:2:66: layer "ip" (InnerProduct).inner_product_param: parameter blob 0 of shape 4000000000x192: 768000000000 elements (2.79 TiB) ` +
        'are more than the limit of 2147483647 elements per blob (--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS)',
    );
    expect(lines[1]).toMatch(new RegExp(`^${f}:3:66: layer "conv" \\(Convolution\\)\\.convolution_param: parameter blob 0 of shape 2x3x2147483648x2147483648: 2\\.767e\\+19 elements`));
    expect(lines[2]).toBe(`${f}:4:73: layer "d".dummy_data_param.shape[0]: dimension -1 in -1x3 is not a positive whole number`);
  });

  it('lists the first 20 problems and counts the rest', async () => {
    const f = write(input + Array.from({ length: 25 }, (_, i) => `layer { name: "r${i}" type: "ReLU" bottom: "nope${i}" top: "y${i}" }\n`).join(''));
    const lines = (await fails(f)).trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('… and 5 more problems');
  });

  it('Python layers fail the check, each listed with its python_param', async () => {
    const f = write(`layer { name: "data" type: "Python" top: "data" top: "label" python_param { module: "voc_layers" layer: "SBDDSegDataLayer" } }
layer { name: "relu" type: "ReLU" bottom: "data" top: "r" }
layer { name: "loss" type: "Python" bottom: "r" bottom: "label" top: "loss" python_param { module: "pyloss" layer: "EuclideanLossLayer" } }
`);
    const lines = (await fails(f)).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `error: ${f}:1:62: layer "data" (Python).python_param: no JavaScript port of Python module 'voc_layers' (class SBDDSegDataLayer): ` +
        `looked for voc_layers.js, voc_layers.mjs, voc_layers.cjs in ${path.dirname(f)}; give its folder with --layers-path DIR or KDNET_LAYERS_PATH`,
    );
    expect(lines[1]).toMatch(new RegExp(`^${f}:3:\\d+: layer "loss" \\(Python\\)\\.python_param: no JavaScript port of Python module 'pyloss' \\(class EuclideanLossLayer\\)`));
    expect((await run('check', f)).stdout).toMatch(/^0\s+data\s+Python \(voc_layers\.SBDDSegDataLayer: no JS port\)\s/m);
  });

  it("a py-faster-rcnn file: scale_train is upgraded with a warning, and its fork types and Python layers are reported together", async () => {
    const f = write(`${input}layer { name: "rois" type: "Python" bottom: "data" top: "rois" python_param { module: "rpn.proposal_layer" layer: "ProposalLayer" } }
layer { name: "roi_pool5" type: "ROIPooling" bottom: "data" bottom: "rois" top: "pool5" roi_pooling_param { pooled_w: 7 pooled_h: 7 spatial_scale: 0.0625 } }
layer { name: "fc6" type: "InnerProduct" bottom: "pool5" top: "fc6" inner_product_param { num_output: 16 } }
layer { name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 scale_train: false } }
`);
    const r = await run('check', f);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('layer "drop6": dropout_param { scale_train: false } (py-faster-rcnn\'s Dropout) scales by 1 - dropout_ratio = 0.5 at TEST');
    expect(r.stdout).toContain('upgrades: fork-fields\n');
    expect(r.stdout).toMatch(/^\d+\s+drop6_scale_train\s+Power\s+fc6\s+fc6\s/m);
    expect(r.stderr).toContain(
      `error: ${f}:3:7: 1 layer type is not in Caffe master: ROIPooling from py-faster-rcnn (rbgirshick/caffe-fast-rcnn): "roi_pool5"\n` +
        `${f}:2:64: layer "rois" (Python).python_param: no JavaScript port of Python module 'rpn.proposal_layer' (class ProposalLayer)`,
    );
    const up = await run('upgrade', f);
    expect(up.code).toBe(0);
    expect(up.stdout).not.toContain('scale_train:');
    const upgraded = parseCaffeText(up.stdout, 'NetParameter').message;
    const power = upgraded.layer.find((l: { name: string }) => l.name === 'drop6_scale_train');
    expect([power.type, power.bottom, power.top, power.power_param.scale]).toEqual(['Power', ['fc6'], ['fc6'], 0.5]);
  });

  it('a fork field kdnet cannot map is an error naming its fork, reported with the fork types and Python layers', async () => {
    const f = write(`layer { name: "data" type: "Data" top: "data" transform_param { resize_param { height: 300 width: 300 } } data_param { source: "db" batch_size: 1 } }
layer { name: "prior" type: "PriorBox" bottom: "data" top: "prior" prior_box_param { min_size: 30 } }
layer { name: "py" type: "Python" bottom: "prior" top: "out" python_param { module: "m" layer: "L" } }
`);
    expect(await fails(f)).toBe(
      `error: ${f}:1:65: layer[0] "data".transform_param.resize_param: unknown field 'resize_param' in TransformationParameter: it is a field of SSD (weiliu89/caffe, branch ssd), not of Caffe master, and kdnet has no equivalent for it\n` +
        `${f}:2:7: 1 layer type is not in Caffe master: PriorBox from SSD (weiliu89/caffe, branch ssd): "prior"\n` +
        `${f}:3:7: the net also has 1 Python layer, which Caffe runs in its embedded Python: "py" (python_param { module: "m" layer: "L" })\n`,
    );
  });
});
