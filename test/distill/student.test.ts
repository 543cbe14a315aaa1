// The extracted set feeds the old two-database recipe unchanged: a second Data layer reads it in step with
// the image database (one top), TempSoftmaxCrossEntropyLoss compares the student's logits with it, and the
// student trains.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { extractSoftTargets } from '../../src/distill/extract.js';
import { Solver } from '../../src/solvers/solver.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { Phase } from '../../src/net/net-state.js';
import { setLogSink } from '../../src/log.js';
import { netFromText, tempDir } from '../support/data.js';
import { BATCH, teacherRows, teacherText, writeSource, writeTeacherWeights } from '../support/teacher.js';

const dir = tempDir('kdnet-student-');
const source = path.join(dir, 'images_lmdb');
const soft = path.join(dir, 'teacher_logits_lmdb');
const teacher = path.join(dir, 'teacher.prototxt');
const weights = path.join(dir, 'teacher.caffemodel');

// The student: images and labels from one database, the teacher's logits from the second, in step.
const student = `name: "student"
layer { name: "data" type: "Data" top: "data" top: "label" transform_param { mean_value: 100 scale: 0.02 }
  data_param { source: "${source}" backend: LMDB batch_size: ${BATCH} } }
layer { name: "soft" type: "Data" top: "soft_target" data_param { source: "${soft}" backend: LMDB batch_size: ${BATCH} } }
layer { name: "fc_s" type: "InnerProduct" bottom: "data" top: "fc_s" inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.1 } } }
layer { name: "kd" type: "TempSoftmaxCrossEntropyLoss" bottom: "fc_s" bottom: "soft_target" top: "kd_loss" tempsoftmax_param { temperature: 2 } loss_weight: 4 }
layer { name: "hard" type: "SoftmaxWithLoss" bottom: "fc_s" bottom: "label" top: "hard_loss" }
`;

beforeAll(async () => {
  await initBackend('cpu', true);
  setLogSink(() => {});
  await writeSource(source, 'lmdb');
  fs.writeFileSync(teacher, teacherText(source, 'LMDB'));
  writeTeacherWeights(weights, 21);
  // TempSoftmaxCrossEntropyLoss softens its target itself: it takes the teacher's logits.
  await extractSoftTargets({ teachers: [{ model: teacher, weights: [weights] }], blob: 'fc', out: soft, logits: true });
  fs.writeFileSync(path.join(dir, 'student.prototxt'), student);
});

describe('a student on the extracted soft targets', () => {
  it('reads each record\'s teacher logits beside its image', () => {
    const logits = teacherRows(teacher, [weights]);
    const net = netFromText(student, Phase.TEST);
    for (let b = 0; b < 3; b++) {
      net.forward();
      const got = Array.from(net.blob('soft_target').dataSync());
      const labels = Array.from(net.blob('label').dataSync());
      const records = [0, 1, 2, 3].map((i) => (b * BATCH + i) % 10);
      expect(labels).toEqual(records.map((r) => r % 3));
      got.forEach((v, k) => expect(Math.abs(v - logits[records[Math.floor(k / 3)]!]![k % 3]!)).toBeLessThanOrEqual(1e-6));
    }
  });

  it('trains with TempSoftmaxCrossEntropyLoss: the loss is finite and falls', async () => {
    const solverText = `net: "${dir}/student.prototxt"\nbase_lr: 0.01\nmomentum: 0.9\nlr_policy: "fixed"\nmax_iter: 60\ndisplay: 0\nrandom_seed: 7\nsnapshot_prefix: "${dir}/student"\n`;
    const solver = new Solver(parseCaffeText(solverText, 'SolverParameter').message, { baseDir: dir });
    try {
      const losses: number[] = [];
      for (let i = 0; i < 60; i++) {
        await solver.step(1);
        losses.push(solver.smoothed);
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      // Whole passes over the 10 records (5 batches of 4 cover them twice): the first two against the last two (5.16 → 4.92).
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
    } finally {
      solver.dispose();
    }
  });
});
