// `kdnet distill export`: a teacher+student training net becomes the student alone (deploy.prototxt +
// deploy.caffemodel), which `kdnet check` accepts and which computes the same logits as the training net's
// student branch.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initBackend } from '../../src/backend/select.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { setLogSink } from '../../src/log.js';
import { checkError, checkFile, type NetCheck } from '../../src/net/check.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { exportStudent } from '../../src/distill/export.js';
import { splitStudent } from '../../src/distill/student-split.js';
import { loadNetFile } from '../../src/proto/load.js';
import { readCaffemodel, writeCaffemodel, writeWeightsMessage } from '../../src/proto/weights.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { Solver } from '../../src/solvers/solver.js';
import { encodeNpy, readNpy } from '../../src/util/npy.js';
import type { Message } from '../../src/proto/schema.js';
import { expectOneError } from '../support/cli-errors.js';
import { netFromText, tempDir, writeDatums } from '../support/data.js';
import { CLASSES, sigmoidRecipe, image } from './support.js';

const dir = tempDir('kdnet-export-');
const frozen = 'param { lr_mult: 0 } param { lr_mult: 0 }';
const STUDENT = ['s_conv', 's_relu', 's_ip'];

/** Teacher (frozen), student, a hint adapter on the student's features, KD + hard loss + Accuracy + Silence. */
const body = `
layer { name: "t_ip1" type: "InnerProduct" bottom: "data" top: "t_ip1" ${frozen}
  inner_product_param { num_output: 12 weight_filler { type: "gaussian" std: 0.5 } } }
layer { name: "t_relu" type: "ReLU" bottom: "t_ip1" top: "t_ip1" }
layer { name: "t_ip2" type: "InnerProduct" bottom: "t_ip1" top: "t_logits" ${frozen}
  inner_product_param { num_output: ${CLASSES} weight_filler { type: "gaussian" std: 0.5 } } }
layer { name: "s_conv" type: "Convolution" bottom: "data" top: "s_conv"
  convolution_param { num_output: 2 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "s_relu" type: "ReLU" bottom: "s_conv" top: "s_conv" }
layer { name: "adapter" type: "InnerProduct" bottom: "s_conv" top: "hint" inner_product_param { num_output: 12 weight_filler { type: "xavier" } } }
layer { name: "hint_loss" type: "EuclideanLoss" bottom: "hint" bottom: "t_ip1" top: "hint_loss" loss_weight: 0.1 }
layer { name: "s_ip" type: "InnerProduct" bottom: "s_conv" top: "s_logits"
  inner_product_param { num_output: ${CLASSES} weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.2 } } }
layer { name: "kd" type: "KnowledgeDistillation" bottom: "s_logits" bottom: "t_logits" top: "kd_loss" knowledge_distillation_param { temperature: 4 } }
layer { name: "hard" type: "SoftmaxWithLoss" bottom: "s_logits" bottom: "label" top: "hard_loss" }
layer { name: "acc" type: "Accuracy" bottom: "s_logits" bottom: "label" top: "acc" include { phase: TEST } }
`;
const inputNet = `name: "kd_input"
layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 4 dim: 1 dim: 4 dim: 4 } shape { dim: 4 } } }
${body}`;
const lmdbNet = (source: string) => `name: "kd_lmdb"
layer { name: "data" type: "Data" top: "data" top: "label" transform_param { scale: 0.0078125 mean_value: 100 }
  data_param { source: "${source}" backend: LMDB batch_size: 4 } }
${body}`;

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

const file = (name: string) => path.join(dir, name);
const layerNames = (m: Message) => (m.layer as Message[]).map((l) => l.name as string);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

beforeAll(async () => {
  await initBackend('cpu', true);
  setLogSink(() => {});
  fs.writeFileSync(file('input.prototxt'), inputNet);
  writeCaffemodel(netFromText(inputNet, Phase.TRAIN, 11), file('input.caffemodel'));
  // The LMDB variant trains 3 iterations with the library's Solver and snapshots.
  const ids = Array.from({ length: 8 }, (_, i) => i);
  await writeDatums(file('train_lmdb'), 'lmdb', ids.map((i) => ({ channels: 1, height: 4, width: 4, data: image(i), label: i % CLASSES })));
  fs.writeFileSync(file('lmdb.prototxt'), lmdbNet(file('train_lmdb')));
  const solverText = `net: "${file('lmdb.prototxt')}"\nbase_lr: 0.05\nmomentum: 0.9\nlr_policy: "fixed"\nmax_iter: 3\ndisplay: 0\nrandom_seed: 5\nsnapshot_prefix: "${file('lmdb')}"\n`;
  const solver = new Solver(parseCaffeText(solverText, 'SolverParameter').message, { baseDir: dir });
  try {
    await solver.step(3);
    fs.renameSync(solver.snapshot().model, file('lmdb.caffemodel'));
  } finally {
    solver.dispose();
  }
});

/** The deploy net is a clean, checkable student: Input, the student's layers, prob. */
function expectDeployNet(out: string, inputShape: number[]): void {
  const deploy = loadNetFile(path.join(out, 'deploy.prototxt')).message;
  expect(layerNames(deploy)).toEqual(['data', ...STUDENT, 'prob']);
  const input = (deploy.layer as Message[])[0]!;
  expect(input.type).toBe('Input');
  expect(input.top).toEqual(['data']);
  expect((input.input_param.shape as Message[]).map((s) => s.dim.map(Number))).toEqual([inputShape]);
  expect((deploy.layer as Message[]).at(-1)).toMatchObject({ type: 'Softmax', bottom: ['s_logits'], top: ['prob'] });
  const report = checkFile(path.join(out, 'deploy.prototxt')) as NetCheck;
  expect(checkError(report)).toBeUndefined();
  // The weights: exactly the student's layers, blobs as in the snapshot.
  const weights = readCaffemodel(path.join(out, 'deploy.caffemodel'));
  expect(layerNames(weights)).toEqual(STUDENT);
  expect((weights.layer as Message[]).map((l) => (l.blobs as Message[]).length)).toEqual([2, 0, 2]);
}

/** `kdnet forward` of both nets on the same data: the deploy net's logits equal the student branch's. */
async function expectSameLogits(trainNet: string, trainWeights: string, out: string, tag: string): Promise<Float32Array> {
  const trainDump = file(`${tag}-train-dump`);
  const deployDump = file(`${tag}-deploy-dump`);
  const x = file(`${tag}-x.npy`);
  const trainArgs = ['forward', '--model', trainNet, '--weights', trainWeights, '--phase', 'TRAIN', '--dump', trainDump];
  if (tag === 'input') {
    fs.writeFileSync(x, encodeNpy(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * 2), [4, 1, 4, 4]));
    fs.writeFileSync(file('label.npy'), encodeNpy(Float32Array.from([0, 1, 2, 3]), [4]));
    trainArgs.push('--input', `data=${x}`, '--input', `label=${file('label.npy')}`);
  }
  const t = await run(...trainArgs);
  expect(t.code, t.stderr).toBe(0);
  if (tag !== 'input') fs.copyFileSync(path.join(trainDump, 'data.npy'), x);
  const d = await run('forward', '--model', path.join(out, 'deploy.prototxt'), '--weights', path.join(out, 'deploy.caffemodel'), '--input', `data=${x}`, '--dump', deployDump);
  expect(d.code, d.stderr).toBe(0);
  const want = readNpy(path.join(trainDump, 's_logits.npy')).data as Float32Array;
  const got = readNpy(path.join(deployDump, 's_logits.npy')).data as Float32Array;
  expect(got.length).toBe(16);
  expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-6);
  expect(new Set(Array.from(want)).size).toBeGreaterThan(4); // real, varied logits
  return readNpy(path.join(deployDump, 'prob.npy')).data as Float32Array;
}

// Debian's python3-opencv installs for the system Python, which a pyenv python3 on PATH may hide.
const cv2Python = ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['-c', 'import cv2'], { stdio: 'ignore' }).status === 0);
const hasCv2 = cv2Python !== undefined;

describe('distill export', () => {
  it('exports the student of a net over an Input layer (batch 4) and it computes the same logits', async () => {
    const out = file('input-out');
    const r = await run('distill', 'export', file('input.prototxt'), '--weights', file('input.caffemodel'), '--out', out, '--batch', '4');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/teacher: t_ip1, t_relu, t_ip2/);
    expectDeployNet(out, [4, 1, 4, 4]);
    const prob = await expectSameLogits(file('input.prototxt'), file('input.caffemodel'), out, 'input');
    for (let n = 0; n < 4; n++) expect(Math.abs(prob.slice(n * 4, n * 4 + 4).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
    if (!hasCv2) return; // OpenCV's reader is the independent check where it is installed
    const script = `import cv2, numpy as np, sys
net = cv2.dnn.readNetFromCaffe(sys.argv[1], sys.argv[2])
net.setInput(np.load(sys.argv[3]))
print(' '.join(repr(float(v)) for v in net.forward('prob').ravel()))`;
    const cv = spawnSync(cv2Python!, ['-c', script, path.join(out, 'deploy.prototxt'), path.join(out, 'deploy.caffemodel'), file('input-x.npy')], { encoding: 'utf8' });
    expect(cv.status, cv.stderr).toBe(0);
    const cvProb = Float32Array.from(cv.stdout.trim().split(' ').map(Number));
    expect(maxDiff(cvProb, prob)).toBeLessThanOrEqual(1e-5);
  });

  it('reads the input shape from one LMDB record (batch 1 by default) and exports a trained snapshot', async () => {
    const out = file('lmdb-out');
    const r = exportStudent({ model: file('lmdb.prototxt'), weights: file('lmdb.caffemodel'), out });
    expect(r.inputs).toEqual([{ blob: 'data', shape: [1, 1, 4, 4] }]);
    expect(r.teacherLayers).toEqual(['t_ip1', 't_relu', 't_ip2']);
    expect(r.droppedLayers).toEqual(['data', 't_ip1', 't_relu', 't_ip2', 'adapter', 'hint_loss', 'kd', 'hard']);
    expectDeployNet(out, [1, 1, 4, 4]);
    await expectSameLogits(file('lmdb.prototxt'), file('lmdb.caffemodel'), out, 'lmdb');
  });

  it('takes --input-shape and --no-softmax', async () => {
    const out = file('shape-out');
    const r = await run('distill', 'export', file('lmdb.prototxt'), '--weights', file('lmdb.caffemodel'), '--out', out, '--input-shape', '1,4,4', '--batch', '2', '--no-softmax');
    expect(r.code, r.stderr).toBe(0);
    const deploy = loadNetFile(path.join(out, 'deploy.prototxt')).message;
    expect(layerNames(deploy)).toEqual(['data', ...STUDENT]);
    expect((deploy.layer as Message[])[0]!.input_param.shape[0].dim.map(Number)).toEqual([2, 1, 4, 4]);
  });

  it('prints its help', async () => {
    const r = await run('distill', 'export', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--weights <file>[\s\S]*--out <dir>[\s\S]*--batch[\s\S]*--input-shape[\s\S]*--no-softmax[\s\S]*--force/);
  });
});

describe('distill export refuses bad input with one error', () => {
  it('no student/teacher split: says what it looked for', async () => {
    const net = file('plain.prototxt');
    fs.writeFileSync(net, `layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
layer { name: "l2" type: "EuclideanLoss" bottom: "ip" bottom: "data" top: "l2" }\n`);
    expectOneError(await run('distill', 'export', net, '--weights', file('input.caffemodel'), '--out', file('none-out')), /no student\/teacher split found: looked for a KnowledgeDistillation/);
  });

  it('a teacher that learns is no teacher', async () => {
    const net = file('learning-teacher.prototxt');
    fs.writeFileSync(net, inputNet.replace(`top: "t_logits" ${frozen}`, 'top: "t_logits"'));
    expectOneError(await run('distill', 'export', net, '--weights', file('input.caffemodel'), '--out', file('learn-out')), /must be frozen .*"t_ip2" learns/);
  });

  it('weights without the student layers', async () => {
    const partial = file('partial.caffemodel');
    const m = readCaffemodel(file('input.caffemodel'));
    m.layer = (m.layer as Message[]).filter((l) => l.name !== 's_ip');
    writeWeightsMessage(partial, m);
    const out = file('partial-out');
    expectOneError(await run('distill', 'export', file('input.prototxt'), '--weights', partial, '--out', out), /partial\.caffemodel has no weights for the student's layer "s_ip"/);
    expect(fs.existsSync(path.join(out, 'deploy.prototxt'))).toBe(false);
  });

  it('a bad --batch', async () => {
    expectOneError(await run('distill', 'export', file('input.prototxt'), '--weights', file('input.caffemodel'), '--out', file('batch-out'), '--batch', 'x'), /--batch must be a positive integer/);
  });

  it('a non-empty output folder without --force', async () => {
    const out = file('full-out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const args = ['distill', 'export', file('input.prototxt'), '--weights', file('input.caffemodel'), '--out', out];
    expectOneError(await run(...args), /full-out exists and is not empty: give --force/);
    expect((await run(...args, '--force')).code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8')).toBe('mine');
  });
});

describe('splitStudent on other recipes', () => {
  const split = (text: string) => {
    fs.writeFileSync(file('recipe.prototxt'), text);
    const train = filterNet(loadNetFile(file('recipe.prototxt')).message, { phase: Phase.TRAIN, level: 0, stage: [] });
    const s = splitStudent(train, 'recipe.prototxt');
    return { ...s, student: s.student.map((i) => (train.layer as Message[])[i]!.name as string) };
  };

  it('soft targets from a second database (TempSoftmaxCrossEntropyLoss): no teacher in the net', () => {
    const s = split(`layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
layer { name: "soft" type: "Input" top: "soft_target" input_param { shape { dim: 2 dim: 4 } } }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 4 } }
layer { name: "kd" type: "TempSoftmaxCrossEntropyLoss" bottom: "fc" bottom: "soft_target" top: "kd" }
layer { name: "silence" type: "Silence" bottom: "label" }`);
    expect(s).toMatchObject({ student: ['fc'], logits: 'fc', teacher: [], inputs: [{ top: 'data' }] });
  });

  it('an old V1 recipe (Power + SIGMOID_CROSS_ENTROPY_LOSS on a second database): the student behind SOFTMAX_LOSS', () => {
    const s = split(sigmoidRecipe(dir));
    expect(s).toMatchObject({ student: ['ip1', 'relu1', 'ip2'], logits: 'ip2', teacher: [], inputs: [{ top: 'data' }] });
  });
});
