// `kdnet distill init`: a teacher .prototxt + .caffemodel and a student .prototxt become one training net that
// checks clean, trains with the teacher frozen (bit-identical parameters) and the student learning, with the
// loss weights and hint adapters the brief asks for.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { setLogSink } from '../../src/log.js';
import { checkError, checkFile, type NetCheck } from '../../src/net/check.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { Net } from '../../src/net/net.js';
import { loadNetFile, loadSolverFile } from '../../src/proto/load.js';
import { blobValues, readCaffemodel } from '../../src/proto/weights.js';
import { Solver } from '../../src/solvers/solver.js';
import type { Message } from '../../src/proto/schema.js';
import { expectOneError } from '../support/cli-errors.js';
import { tempDir } from '../support/data.js';
import { CLASSES, writeTeacherAndStudent } from './support.js';

const dir = tempDir('kdnet-init-');
const file = (name: string) => path.join(dir, name);
const ALPHA = 0.1;
const T = 4;

// The teacher: its own Input, conv → relu → pool → dropout → ip, a loss and an accuracy (all but the compute dropped).
const teacherText = `name: "teacher"
layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 4 dim: 1 dim: 4 dim: 4 } shape { dim: 4 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "drop1" type: "Dropout" bottom: "pool1" top: "pool1" dropout_param { dropout_ratio: 0.5 } }
layer { name: "ip" type: "InnerProduct" bottom: "pool1" top: "ip" inner_product_param { num_output: ${CLASSES} weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "constant" value: 0.2 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" }
`;
// The student: Data layers for both phases, a thinner conv → ip, whose names collide with the teacher's.
const studentText = (source: string) => `name: "student"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN } transform_param { scale: 0.0078125 }
  data_param { source: "${source}" backend: LMDB batch_size: 4 } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST } transform_param { scale: 0.0078125 }
  data_param { source: "${source}" backend: LMDB batch_size: 4 } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 2 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "ip" type: "InnerProduct" bottom: "conv1" top: "ip" inner_product_param { num_output: ${CLASSES} weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
`;

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

const base = () => ['distill', 'init', '--teacher', file('teacher.prototxt'), '--teacher-weights', file('teacher.caffemodel'), '--student', file('student.prototxt')];
const layersOf = (f: string) => loadNetFile(f).message.layer as Message[];
const byName = (ls: Message[], n: string) => ls.find((l) => l.name === n)!;
const values = (net: Net, layer: string) => net.layer(layer).blobs.map((b) => Float32Array.from(b.dataSync() as Float32Array));

beforeAll(async () => {
  await initBackend('cpu', true);
  setLogSink(() => {});
  await writeTeacherAndStudent(dir, teacherText, studentText);
});

/** The generated net and solver check clean; teacher layers frozen by name; loss weights as asked. */
function expectComposed(out: string, softType: string, softWeight: number): Message[] {
  const trainVal = path.join(out, 'train_val.prototxt');
  expect(checkError(checkFile(trainVal) as NetCheck)).toBeUndefined();
  expect(loadSolverFile(path.join(out, 'solver.prototxt')).message.net).toBe(path.resolve(trainVal));
  const layers = layersOf(trainVal);
  const names = layers.map((l) => l.name);
  // Teacher keeps its names; its data, Dropout, loss and accuracy are gone; colliding student names get s_.
  expect(names).toEqual(expect.arrayContaining(['conv1', 'relu1', 'pool1', 'ip', 's_conv1', 's_ip', 'loss', 'accuracy']));
  expect(names).not.toContain('drop1');
  expect(layers.filter((l) => l.type === 'SoftmaxWithLoss')).toHaveLength(1);
  expect(byName(layers, 'conv1').bottom).toEqual(['data']);
  for (const n of ['conv1', 'ip']) expect((byName(layers, n).param as Message[]).map((p) => [p.lr_mult, p.decay_mult])).toEqual([[0, 0], [0, 0]]);
  expect(byName(layers, 's_ip').bottom).toEqual(['s_conv1']);
  expect(byName(layers, 'loss')).toMatchObject({ bottom: ['s_ip', 'label'], loss_weight: [Math.fround(ALPHA)] }); // float fields hold float32
  expect(byName(layers, 'accuracy').bottom).toEqual(['s_ip', 'label']);
  const soft = layers.find((l) => l.type === softType)!;
  expect(soft.bottom).toEqual(['s_ip', 'ip']);
  expect(soft.loss_weight).toEqual([Math.fround(softWeight)]);
  return layers;
}

/** 5 iterations of the library's Solver, finetuning from the teacher weights: teacher bit-identical, student moved. */
async function trainFive(out: string, baseLr: number, check?: (net: Net) => void): Promise<void> {
  const param = loadSolverFile(path.join(out, 'solver.prototxt')).message;
  Object.assign(param, { max_iter: 5, display: 0, test_interval: 0, test_iter: [], snapshot: 0, base_lr: baseLr, random_seed: 3 });
  const solver = new Solver(param, { baseDir: out });
  try {
    solver.loadWeights([file('teacher.caffemodel')]);
    const stored = new Map((readCaffemodel(file('teacher.caffemodel')).layer as Message[]).map((l) => [l.name, (l.blobs as Message[]).map((b) => blobValues(b))]));
    for (const n of ['conv1', 'ip']) expect(values(solver.net, n)).toEqual(stored.get(n)!.map((v) => Float32Array.from(v)));
    const studentBefore = values(solver.net, 's_conv1');
    check?.(solver.net);
    await solver.step(5);
    for (const n of ['conv1', 'ip']) expect(values(solver.net, n)).toEqual(stored.get(n)!.map((v) => Float32Array.from(v)));
    const after = values(solver.net, 's_conv1');
    expect(after[0]).not.toEqual(studentBefore[0]);
  } finally {
    solver.dispose();
  }
}

const softmax = (z: number[], t: number) => {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('distill init', () => {
  it('composes teacher and student with KnowledgeDistillation; trains with the teacher frozen; KD loss by hand', async () => {
    const out = file('kd');
    const r = await run(...base(), '--temperature', String(T), '--alpha', String(ALPHA), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`kdnet train ${path.join(out, 'solver.prototxt')} --weights ${file('teacher.caffemodel')}`);
    expect(r.stdout).toMatch(/student layer "conv1" renamed "s_conv1"/);
    expect(r.stdout).toMatch(/Dropout "drop1" removed/);
    expectComposed(out, 'KnowledgeDistillation', 1 - ALPHA);
    // A drawing of the composed TRAIN net beside it, teacher and student in their colours.
    const drawing = fs.readFileSync(path.join(out, 'train_val.svg'), 'utf8');
    expect(r.stdout).toContain(`drew the TRAIN net in ${path.join(out, 'train_val.svg')}`);
    expect(drawing).toMatch(/^<svg|<\?xml/);
    expect(drawing).toContain('s_conv1');
    expect(drawing).toContain('teacher');
    // The printed command runs as given (capped at 2 iterations; the TEST net runs at the end too).
    const t = await run('train', path.join(out, 'solver.prototxt'), '--weights', file('teacher.caffemodel'), '--iterations', '2');
    expect(t.code, t.stderr).toBe(0);
    await trainFive(out, 0.1, (net) => {
      // Iteration 0's KD loss from the two nets' logits: mean over items of KL(p_t ‖ p_s) at temperature T.
      net.forward();
      const t = Array.from(net.blob('ip').dataSync());
      const s = Array.from(net.blob('s_ip').dataSync());
      let kl = 0;
      for (let n = 0; n < 4; n++) {
        const pt = softmax(t.slice(n * CLASSES, n * CLASSES + CLASSES), T);
        const ps = softmax(s.slice(n * CLASSES, n * CLASSES + CLASSES), T);
        kl += pt.reduce((a, p, c) => a + p * (Math.log(p) - Math.log(ps[c]!)), 0);
      }
      expect(kl).toBeGreaterThan(1e-4);
      expect(net.blob('soft_loss').dataSync()[0]).toBeCloseTo(kl / 4, 5);
    });
  });

  it('composes with TempSoftmaxCrossEntropyLoss (weight T²(1−α)) and two hints (1×1 conv, AVE pool + 1×1 conv)', async () => {
    const out = file('temp');
    const r = await run(...base(), '--layer', 'TempSoftmaxCrossEntropyLoss', '--temperature', String(T), '--alpha', String(ALPHA), '--hint', 'conv1:conv1', '--hint', 'pool1:conv1:0.5', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const layers = expectComposed(out, 'TempSoftmaxCrossEntropyLoss', T * T * (1 - ALPHA));
    const conv = byName(layers, 'hint_adapter_s_conv1');
    expect(conv).toMatchObject({ type: 'Convolution', bottom: ['s_conv1'] });
    expect(conv.convolution_param).toMatchObject({ num_output: 4, kernel_size: [1] });
    const pool = byName(layers, 'hint_pool_s_conv1');
    expect(pool.pooling_param).toMatchObject({ pool: 1, kernel_size: 2, stride: 2 }); // AVE
    expect(byName(layers, 'hint_adapter_s_conv1_2')).toMatchObject({ type: 'Convolution', bottom: ['hint_pool_s_conv1'] });
    const losses = layers.filter((l) => l.type === 'EuclideanLoss');
    expect(losses.map((l) => [l.bottom, l.propagate_down, l.loss_weight])).toEqual([
      [['hint_adapter_s_conv1', 'conv1'], [true, false], [1]],
      [['hint_adapter_s_conv1_2', 'pool1'], [true, false], [0.5]],
    ]);
    const net = new Net(filterNet(loadNetFile(path.join(out, 'train_val.prototxt')).message, { phase: Phase.TRAIN, level: 0, stage: [] }), { phase: Phase.TRAIN });
    try {
      expect(net.blobShape('hint_adapter_s_conv1')).toEqual(net.blobShape('conv1'));
      expect(net.blobShape('hint_adapter_s_conv1_2')).toEqual([4, 4, 2, 2]);
      expect(net.blobShape('pool1')).toEqual([4, 4, 2, 2]);
    } finally {
      net.dispose();
    }
    await trainFive(out, 0.005); // the T²-weighted soft loss wants a smaller step
  });

  it('--name, --solver and --snapshot-prefix: several compositions in one folder, paths kept as given', async () => {
    fs.writeFileSync(file('student_solver.prototxt'), 'net: "student.prototxt"\ntest_iter: 2\ntest_interval: 3\nbase_lr: 0.02\nlr_policy: "inv"\ngamma: 0.0001\npower: 0.75\nmax_iter: 7\nrandom_seed: 5\nsnapshot_prefix: "alone"\n');
    const cwd = process.cwd();
    process.chdir(dir); // relative paths, as a user types them from the project's root
    try {
      const args = (name: string, ...more: string[]) => ['distill', 'init', '--teacher', 'teacher.prototxt', '--teacher-weights', 'teacher.caffemodel', '--student', 'student.prototxt', '--out', 'named', '--name', name, ...more];
      const r = await run(...args('kd', '--solver', 'student_solver.prototxt', '--snapshot-prefix', 'runs/kd'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('kdnet train named/kd_solver.prototxt --weights teacher.caffemodel');
      expect(r.stdout).toContain('the solver takes its settings from student_solver.prototxt');
      const solver = loadSolverFile('named/kd_solver.prototxt').message;
      expect(solver).toMatchObject({ net: 'named/kd_train_val.prototxt', snapshot_prefix: 'runs/kd', test_iter: [2], test_interval: 3, lr_policy: 'inv', max_iter: 7, random_seed: 5 });
      expect(fs.readFileSync('named/kd_train_val.prototxt', 'utf8').split('\n')[0]).toBe(
        '# Composed by kdnet distill init: teacher teacher.prototxt (frozen, weights from teacher.caffemodel), student student.prototxt.',
      );
      expect(checkError(checkFile('named/kd_train_val.prototxt') as NetCheck)).toBeUndefined();
      // A second composition beside the first needs no --force; the default snapshot prefix carries the name.
      const second = await run(...args('kd2', '--hint', 'conv1:conv1'));
      expect(second.code, second.stderr).toBe(0);
      expect(loadSolverFile('named/kd2_solver.prototxt').message).toMatchObject({ snapshot_prefix: 'named/kd2_student', lr_policy: 'step', max_iter: 30000 });
      expect(fs.readdirSync('named').sort()).toEqual(['kd2_solver.prototxt', 'kd2_train_val.prototxt', 'kd2_train_val.svg', 'kd_solver.prototxt', 'kd_train_val.prototxt', 'kd_train_val.svg']);
      // The composed solver trains from here as written (2 iterations; the TEST net runs at the end).
      const t = await run('train', 'named/kd_solver.prototxt', '--weights', 'teacher.caffemodel', '--iterations', '2');
      expect(t.code, t.stderr).toBe(0);
      expectOneError(await run(...args('kd')), /named\/kd_train_val.prototxt and named\/kd_solver.prototxt already exist: give --force/);
      expect((await run(...args('kd', '--force'))).code).toBe(0);
      expectOneError(await run(...args('a/b')), /--name must be a plain file-name prefix/);
      expectOneError(await run(...args('kd3', '--solver', 'missing_solver.prototxt')), /missing_solver.prototxt/);
      expect(fs.existsSync('named/kd3_train_val.prototxt')).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('shows its flags in --help', async () => {
    const r = await run('distill', 'init', '--help');
    expect(r.stdout + r.stderr).toMatch(/--teacher-weights[\s\S]*--hint/);
  });

  it('refuses bad input with one message', async () => {
    const out = file('bad');
    expectOneError(await run(...base(), '--hint', 'conv1:conv2', '--out', out), /student .* has no blob 'conv2'; did you mean 'conv1'\?/);
    expectOneError(await run(...base(), '--hint', 'cnv1:conv1', '--out', out), /teacher .* has no blob 'cnv1'; did you mean 'conv1'\?/);
    expectOneError(await run(...base(), '--hint', 'conv1', '--out', out), /--hint wants TEACHER_BLOB:STUDENT_BLOB/);
    expectOneError(await run(...base(), '--hint', 'ip:conv1', '--out', out), /cannot map the student's \[1, 2, 4, 4\] onto the teacher's \[1, 4\]/);
    expectOneError(await run(...base(), '--alpha', '1.5', '--out', out), /--alpha must be in \[0, 1\], got 1.5/);
    expectOneError(await run(...base(), '--temperature', '0', '--out', out), /--temperature must be positive, got 0/);
    expectOneError(await run(...base(), '--layer', 'TempSoftmaxCrossEntropyLoss', '--temperature', '1', '--out', out), /> 1 for TempSoftmaxCrossEntropyLoss/);
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    expectOneError(await run(...base(), '--out', out), /exists and is not empty: give --force/);
    const forced = await run(...base(), '--out', out, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('--soft-weight sets the soft loss weight apart from alpha (hard 0.05 + soft 0.6 + hints 0.35), with T² for TempSoftmax', async () => {
    const kd = await run(...base(), '--alpha', '0.05', '--soft-weight', '0.6', '--hint', 'conv1:conv1:0.35', '--out', file('soft_kd'));
    expect(kd.code, kd.stderr).toBe(0);
    const layers = layersOf(path.join(file('soft_kd'), 'train_val.prototxt'));
    expect(byName(layers, 'loss').loss_weight).toEqual([Math.fround(0.05)]);
    expect(byName(layers, 'soft_loss').loss_weight).toEqual([Math.fround(0.6)]);
    expect(layers.find((l) => l.type === 'EuclideanLoss')!.loss_weight).toEqual([Math.fround(0.35)]);
    const temp = await run(...base(), '--layer', 'TempSoftmaxCrossEntropyLoss', '--temperature', '4', '--alpha', '0.05', '--soft-weight', '0.6', '--out', file('soft_temp'));
    expect(temp.code, temp.stderr).toBe(0);
    expect(temp.stdout).toContain('soft loss weight 9.6');
    expectOneError(await run(...base(), '--soft-weight', '-1', '--out', file('soft_bad')), /--soft-weight must be a number ≥ 0, got -1/);
  });
});
