// `kdnet demo` end to end at toy size on the shipped Fashion-MNIST subset: the data split, the nets it writes,
// the results (JSON in the format, table, SVG) equal to what the training logs say, and bad flags.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { buildDemoData, UNLABELLED } from '../../src/demo/data.js';
import { studentNet } from '../../src/demo/nets.js';
import { openDbReader } from '../../src/data/db/index.js';
import { decodeDatum } from '../../src/data/datum.js';
import { loadNetFile, loadSolverFile } from '../../src/proto/load.js';
import { checkError, checkFile, type NetCheck } from '../../src/net/check.js';
import type { Message } from '../../src/proto/schema.js';
import { expectOneError } from '../support/cli-errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-demo-'));

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

async function records(db: string): Promise<Array<{ key: string; label: number; pixels: number[] }>> {
  const r = await openDbReader(db);
  const out = [];
  for await (const x of r.records()) {
    const d = decodeDatum(x.value, db);
    out.push({ key: x.key.toString(), label: d.label, pixels: Array.from(d.data.subarray(0, 784)) });
  }
  await r.close();
  return out;
}

beforeAll(async () => {
  await initBackend('wasm', true);
});

describe('demo data', () => {
  it('splits the subset: every image for the teacher, a class-balanced labelled sample, the rest unlabelled in the transfer set', async () => {
    const data = await buildDemoData({ dir: path.join(dir, 'data'), labelled: 100 });
    expect(data.counts).toEqual({ train: 10000, labelled: 100, test: 2000 });
    const [train, labelled, transfer, test] = await Promise.all([data.databases.train, data.databases.labelled, data.databases.transfer, data.databases.test].map(records));
    expect(train).toHaveLength(10000);
    expect(test).toHaveLength(2000);
    // 10 of each class, each one an image of the training set with its label.
    expect(labelled).toHaveLength(100);
    const perClass = new Map<number, number>();
    for (const r of labelled) perClass.set(r.label, (perClass.get(r.label) ?? 0) + 1);
    expect([...perClass.values()]).toEqual(new Array(10).fill(10));
    // The transfer set is the training set, same keys and order (so one logits database serves both), with
    // exactly the labelled sample keeping its labels.
    expect(transfer.map((r) => r.key)).toEqual(train.map((r) => r.key));
    const labelledImages = new Set(labelled.map((r) => r.pixels.join(',')));
    transfer.forEach((r, i) => {
      expect(r.pixels).toEqual(train[i]!.pixels);
      expect(r.label).toBe(labelledImages.has(r.pixels.join(',')) ? train[i]!.label : UNLABELLED);
    });
    expect(transfer.filter((r) => r.label !== UNLABELLED)).toHaveLength(100);
  });

  it('refuses a labelled count the classes cannot share', async () => {
    await expect(buildDemoData({ dir: path.join(dir, 'bad'), labelled: 15 })).rejects.toThrow(/multiple of the 10 classes/);
  });
});

describe('demo nets', () => {
  it('adds the teacher logits and a KnowledgeDistillation loss; the transfer set\'s unlabelled images are ignored by the hard loss', () => {
    const net = studentNet({ train: 'a_lmdb', test: 't_lmdb' }, { logits: 'l_lmdb', temperature: 4, alpha: 0.1, unlabelled: true });
    const layers = net.layer as Message[];
    const byName = (n: string) => layers.find((l) => l.name === n)!;
    expect(byName('teacher_logits').data_param.source).toBe('l_lmdb');
    expect(byName('kd_loss')).toMatchObject({ type: 'KnowledgeDistillation', bottom: ['s_ip2', 'teacher_logits'], loss_weight: [0.9] });
    expect(byName('kd_loss').knowledge_distillation_param.temperature).toBe(4);
    expect(byName('loss').loss_weight).toEqual([0.1]);
    expect(byName('loss').loss_param.ignore_label).toBe(UNLABELLED);
    const alone = studentNet({ train: 'a_lmdb', test: 't_lmdb' });
    expect((alone.layer as Message[]).map((l) => l.type)).not.toContain('KnowledgeDistillation');
  });
});

describe('kdnet demo', () => {
  it('runs teacher, students alone and distilled over seeds, and reports what the runs measured', async () => {
    const out = path.join(dir, 'run');
    const json = path.join(dir, 'results.json');
    const r = await run('demo', '--out', out, '--json', json, '--seeds', '2', '--labelled', '200', '--regimes', 'labelled,transfer,all', '--teacher-iterations', '30', '--student-iterations', '30', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);

    const results = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).toBe(fs.readFileSync(json, 'utf8'));
    // The issue's format: the teacher's error a fraction, the students' one per seed.
    expect(typeof results.teacher.test_error).toBe('number');
    for (const k of ['student', 'student_kd', 'student_kd_transfer', 'student_all', 'student_kd_all']) expect(results[k].test_error).toHaveLength(2);

    // Every number is the one its training log ends with (1 − the final test accuracy).
    const finalError = (name: string) => {
      const log = fs.readFileSync(path.join(out, 'logs', `${name}.log`), 'utf8');
      const acc = [...log.matchAll(/Test net output #\d+: accuracy = ([\d.e-]+)/g)].at(-1)![1]!;
      return 1 - Number(acc);
    };
    expect(results.teacher.test_error).toBeCloseTo(finalError('teacher'), 6);
    for (const k of ['student', 'student_kd', 'student_kd_transfer']) {
      results[k].test_error.forEach((e: number, i: number) => expect(e).toBeCloseTo(finalError(`${k}_seed${i + 1}`), 6));
    }
    // Seeds differ (different initial weights); errors are fractions.
    const all = [results.teacher.test_error, ...results.student.test_error, ...results.student_kd.test_error];
    for (const e of all) expect(e).toBeGreaterThanOrEqual(0), expect(e).toBeLessThanOrEqual(1);
    // The distilled student's gain and gap are computed from those errors.
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const gain = mean(results.student.test_error) - mean(results.student_kd.test_error);
    expect(results.student_kd.gain_over_student).toBeCloseTo(gain, 9);
    expect(results.student_kd.gap_closed).toBeCloseTo(gain / (mean(results.student.test_error) - results.teacher.test_error), 9);

    // Parameters of the shipped models: LeNet 431,080; the 784-256-10 MLP 203,530.
    expect(results.teacher.parameters).toBe(431080);
    expect(results.student_kd.parameters).toBe(203530);
    expect(results.student_kd.forward_ms_per_image).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, 'deploy', 'student_kd', 'deploy.caffemodel'))).toBe(true);
    const deploy = loadNetFile(path.join(out, 'deploy', 'student_kd', 'deploy.prototxt')).message;
    expect((deploy.layer as Message[]).map((l) => l.type)).toEqual(['Input', 'InnerProduct', 'ReLU', 'InnerProduct', 'Softmax']);

    // The nets it wrote check clean and are what ran; the table and the chart are there.
    const written = fs.readdirSync(path.join(out, 'nets'));
    for (const f of written.filter((n) => !n.endsWith('_solver.prototxt'))) expect(checkError(checkFile(path.join(out, 'nets', f)) as NetCheck), f).toBeUndefined();
    for (const f of written.filter((n) => n.endsWith('_solver.prototxt'))) expect(loadSolverFile(path.join(out, 'nets', f)).message.max_iter).toBe(30);
    expect(r.stdout).toMatch(/model\s+test error \(per seed\)\s+parameters\s+forward ms\/image/);
    expect(r.stdout).toContain('student + KD, soft targets on the 200 labelled images');
    expect(r.stdout).toContain(`results: ${path.join(out, 'results.json')}`);
    const svg = fs.readFileSync(path.join(out, 'errors.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('student alone (200 labels)');
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toContain('teacher, LeNet (all 10,000 labels)');
  }, 240_000);

  it('shows its flags in --help', async () => {
    const r = await run('demo', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--seeds', '--json', '--regimes', '--labelled', '--temperature', '--alpha', '--full', '--out']) expect(r.stdout).toContain(flag);
  });

  it('refuses bad flags with one message', async () => {
    expectOneError(await run('demo', '--regimes', 'labeled'), /--regimes takes a comma-separated list of labelled, transfer, all; got 'labeled'/);
    expectOneError(await run('demo', '--seeds', '0', '--out', path.join(dir, 'x')), /--seeds must be a positive whole number, got 0/);
    expectOneError(await run('demo', '--alpha', '1.5', '--out', path.join(dir, 'x')), /--alpha must be between 0 and 1, got 1.5/);
    expectOneError(await run('demo', '--temperature', 'hot', '--out', path.join(dir, 'x')), /--temperature wants a number, got 'hot'/);
  });
});
