// `kdnet distill sweep`: the temperature rewrite (KnowledgeDistillation keeps its weight, TempSoftmax's follows
// T²), and a tiny end-to-end sweep whose table and JSON hold the accuracies the runs' own snapshots give under
// `kdnet test`, with a well-formed SVG; bad input is exit 1 with one message.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { setLogSink } from '../../src/log.js';
import { parseCaffeText } from '../../src/proto/text.js';
import type { Message } from '../../src/proto/schema.js';
import { initDistillation } from '../../src/distill/init.js';
import { withTemperature } from '../../src/distill/sweep-rewrite.js';
import { parseTemperatures } from '../../src/distill/sweep.js';
import { KdnetError } from '../../src/errors.js';
import { expectOneError } from '../support/cli-errors.js';
import { tempDir } from '../support/data.js';
import { CLASSES, writeTeacherAndStudent } from './support.js';

const dir = tempDir('kdnet-sweep-');
const file = (name: string) => path.join(dir, name);

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

const net = (text: string) => parseCaffeText(text, 'NetParameter', 'net.prototxt').message;
const layer = (n: Message, name: string) => (n.layer as Message[]).find((l) => l.name === name)!;

const distillText = `name: "d"
layer { name: "in" type: "Input" top: "s" top: "t" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } } }
layer { name: "kd" type: "KnowledgeDistillation" bottom: "s" bottom: "t" top: "kd" loss_weight: 0.9 knowledge_distillation_param { temperature: 4 } }
layer { name: "ts" type: "TempSoftmaxCrossEntropyLoss" bottom: "s" bottom: "t" top: "ts" loss_weight: 14.4 tempsoftmax_param { temperature: 4 } }
layer { name: "ts_default" type: "TempSoftmaxCrossEntropyLoss" bottom: "s" bottom: "t" top: "ts_default" }
`;

describe('the temperature rewrite', () => {
  it('sets T on every distillation layer; TempSoftmax loss weights follow T², KnowledgeDistillation keeps its own', () => {
    const original = net(distillText);
    const { net: at8, changes } = withTemperature(original, 8, 'd.prototxt');
    expect(layer(at8, 'kd').knowledge_distillation_param.temperature).toBe(8);
    expect(layer(at8, 'kd').loss_weight).toEqual(layer(original, 'kd').loss_weight);
    expect(layer(at8, 'ts').tempsoftmax_param.temperature).toBe(8);
    expect(layer(at8, 'ts').loss_weight[0]).toBeCloseTo(57.6, 4); // 0.9 · 8², as distill init writes it at T = 8
    // Unset: the proto's default T = 2 and loss weight 1, so the base weight is 1/4 and at T = 8 the weight is 16.
    expect(layer(at8, 'ts_default').tempsoftmax_param.temperature).toBe(8);
    expect(layer(at8, 'ts_default').loss_weight).toEqual([16]);
    expect(changes.map((c) => [c.layer, c.from, c.to, c.lossWeight.to])).toEqual([
      ['kd', 4, 8, expect.closeTo(0.9, 6)],
      ['ts', 4, 8, expect.closeTo(57.6, 4)],
      ['ts_default', 2, 8, 16],
    ]);
    // The input net is unchanged and the other layers are the same.
    expect(layer(original, 'ts').loss_weight[0]).toBeCloseTo(14.4, 6);
    expect(layer(at8, 'in')).toBe(layer(original, 'in'));
  });

  it('matches distill init: the weight it writes at T, rewritten to T′, is the weight it writes at T′', () => {
    const at2 = withTemperature(net(distillText), 2, 'd').net;
    const back = withTemperature(at2, 4, 'd').net;
    expect(layer(at2, 'ts').loss_weight[0]).toBeCloseTo(3.6, 6);
    expect(layer(back, 'ts').loss_weight[0]).toBeCloseTo(14.4, 5);
  });

  it('refuses a net without a distillation layer, T ≤ 0, and T ≤ 1 for TempSoftmax', () => {
    expect(() => withTemperature(net('layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 } } }'), 2, 'plain.prototxt')).toThrow(
      /^plain.prototxt has no KnowledgeDistillation or TempSoftmaxCrossEntropyLoss layer/,
    );
    expect(() => withTemperature(net(distillText), 0, 'd')).toThrow(KdnetError);
    expect(() => withTemperature(net(distillText), 1, 'd')).toThrow(/must be > 1 for TempSoftmaxCrossEntropyLoss/);
  });

  it('parses --temperatures', () => {
    expect(parseTemperatures('1, 2,4,8,20')).toEqual([1, 2, 4, 8, 20]);
    expect(parseTemperatures('0.5')).toEqual([0.5]);
    for (const bad of ['', '1,,2', '0', '-1', 'two', '2,2', 'Infinity']) expect(() => parseTemperatures(bad)).toThrow(KdnetError);
  });
});

/** Balanced tags, one root <svg>: enough to say a renderer will open the file. */
function expectWellFormedSvg(svg: string): void {
  const body = svg.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '').trim();
  expect(body.startsWith('<svg')).toBe(true);
  expect(body.endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  let roots = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)(?:"[^"]*"|'[^']*'|[^'">])*?(\/?)>/g)) {
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[3]) {
      if (!stack.length) roots++;
      stack.push(m[2]!);
    }
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('kdnet distill sweep', () => {
  const teacherText = `name: "teacher"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 4 dim: 1 dim: 4 dim: 4 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "ip" type: "InnerProduct" bottom: "conv1" top: "ip" inner_product_param { num_output: ${CLASSES} weight_filler { type: "gaussian" std: 0.5 } } }
`;
  const studentText = (source: string) => `name: "student"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN } transform_param { scale: 0.0078125 }
  data_param { source: "${source}" backend: LMDB batch_size: 4 } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST } transform_param { scale: 0.0078125 }
  data_param { source: "${source}" backend: LMDB batch_size: 4 } }
layer { name: "s_ip" type: "InnerProduct" bottom: "data" top: "s_ip" inner_product_param { num_output: ${CLASSES} weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s_ip" bottom: "label" top: "loss" }
layer { name: "accuracy" type: "Accuracy" bottom: "s_ip" bottom: "label" top: "accuracy" include { phase: TEST } }
`;
  let solver = '';
  let plainSolver = '';

  beforeAll(async () => {
    await initBackend('cpu', true);
    setLogSink(() => {});
    await writeTeacherAndStudent(dir, teacherText, studentText);
    const composed = initDistillation({ teacher: file('teacher.prototxt'), teacherWeights: file('teacher.caffemodel'), student: file('student.prototxt'), temperature: 4, alpha: 0.3, out: file('composed') });
    // A short schedule: the whole 8-record test set per pass; max_iter 5 is no multiple of test_interval 4,
    // so the sweep's own final test pass runs.
    solver = composed.solver;
    fs.writeFileSync(solver, fs.readFileSync(solver, 'utf8').replace(/test_iter: \d+/, 'test_iter: 2').replace(/test_interval: \d+/, 'test_interval: 4').replace(/base_lr: [\d.]+/, 'base_lr: 0.2').replace(/display: \d+/, 'display: 1'));
    plainSolver = file('plain_solver.prototxt');
    fs.writeFileSync(plainSolver, `net: "${file('student.prototxt')}"\ntest_iter: 2\ntest_interval: 4\nbase_lr: 0.1\nlr_policy: "fixed"\nmax_iter: 3\n`);
  });

  it('trains once per T and seed; the table and JSON hold the accuracies the runs reached; the SVG is well formed', async () => {
    const out = file('sweep');
    const r = await run('distill', 'sweep', '--solver', solver, '--temperatures', '2,8', '--seeds', '2', '--iterations', '5', '--weights', file('teacher.caffemodel'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(report.metric).toBe('accuracy');
    expect(report.temperatures).toEqual([2, 8]);
    expect(report.seeds).toEqual([1701, 1702]);
    expect(report.runs.map((x: { temperature: number; seed: number; iterations: number }) => [x.temperature, x.seed, x.iterations])).toEqual([
      [2, 1701, 5],
      [2, 1702, 5],
      [8, 1701, 5],
      [8, 1702, 5],
    ]);
    const table = fs.readFileSync(path.join(out, 'sweep.md'), 'utf8');
    expect(table).toContain('| T | accuracy (seed 1701) | accuracy (seed 1702) | mean accuracy | mean error |');
    for (const x of report.runs) {
      // The run's own final snapshot, tested from scratch by `kdnet test` over the whole test set, gives the same accuracy.
      expect(x.snapshot).toBe(path.join(out, `T${x.temperature}-seed${x.seed}`, 'student_iter_5.caffemodel'));
      const t = await run('test', '--model', path.join(file('composed'), 'train_val.prototxt'), '--weights', x.snapshot, '--iterations', '2');
      expect(t.code, t.stderr).toBe(0);
      const acc = Number(/\baccuracy = ([\d.e+-]+)/.exec(t.stderr.split('\n').filter((l) => l.includes('accuracy = ')).pop()!)![1]);
      expect(x.accuracy).toBeCloseTo(acc, 6);
      expect(x.error).toBeCloseTo(1 - x.accuracy, 12);
      // The soft loss ran at this run's temperature: it is among the outputs and sweep.md quotes the accuracy.
      expect(x.outputs.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['accuracy', 'loss', 'soft_loss']));
      expect(table).toContain(`${(100 * x.accuracy).toFixed(2)} %`);
    }
    const soft = (t: number) => report.runs.find((x: { temperature: number }) => x.temperature === t).outputs.find((o: { name: string }) => o.name === 'soft_loss').value;
    expect(soft(2)).not.toBeCloseTo(soft(8), 6);
    const mean2 = (report.runs[0].accuracy + report.runs[1].accuracy) / 2;
    expect(table).toMatch(new RegExp(`^\\| 2 \\| [^|]+ \\| [^|]+ \\| ${(100 * mean2).toFixed(2)} % \\| ${(100 * (1 - mean2)).toFixed(2)} % \\|$`, 'm'));
    // Each run keeps the solver it ran: T and the seed written in, the net inline.
    const ran = fs.readFileSync(path.join(out, 'T8-seed1702', 'solver.prototxt'), 'utf8');
    expect(ran).toMatch(/random_seed: 1702/);
    expect(ran).toMatch(/temperature: 8/);
    expect(r.stdout).toContain(`wrote ${path.join(out, 'sweep.svg')}`);
    const svg = fs.readFileSync(path.join(out, 'sweep.svg'), 'utf8');
    expectWellFormedSvg(svg);
    expect(svg).toContain('temperature T (log scale)');
    // The output folder is now not empty: a second sweep needs --force.
    expectOneError(await run('distill', 'sweep', '--solver', solver, '--temperatures', '2', '--out', out), /exists and is not empty: give --force/);
  });

  it('bad input is exit 1 with one message, before any training', async () => {
    const out = file('bad');
    expectOneError(await run('distill', 'sweep', '--solver', plainSolver, '--out', out), /has no KnowledgeDistillation or TempSoftmaxCrossEntropyLoss layer: there is no temperature to sweep/);
    expectOneError(await run('distill', 'sweep', '--solver', solver, '--temperatures', '2,0', '--out', out), /--temperatures wants positive numbers.*got '0'/);
    expectOneError(await run('distill', 'sweep', '--solver', solver, '--temperatures', '-1', '--out', out), /--temperatures wants positive numbers/);
    expectOneError(await run('distill', 'sweep', '--solver', file('missing.prototxt'), '--out', out), /missing\.prototxt: no such file/);
    fs.mkdirSync(file('a_dir.prototxt'), { recursive: true });
    expectOneError(await run('distill', 'sweep', '--solver', file('a_dir.prototxt'), '--out', out), /a_dir\.prototxt/);
    expectOneError(await run('distill', 'sweep', '--solver', solver, '--seeds', '0', '--out', out), /--seeds must be a whole number ≥ 1/);
    expectOneError(await run('distill', 'sweep', '--solver', solver, '--weights', file('nope.caffemodel'), '--out', out), /--weights .*nope\.caffemodel: no such file/);
    expectOneError(await run('distill', 'sweep', '--solver', solver, '--metric', 'nope', '--iterations', '1', '--temperatures', '2', '--out', out), /has no output 'nope' \(it has .*accuracy/);
    const help = await run('distill', 'sweep', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--temperatures <list>');
  });
});
