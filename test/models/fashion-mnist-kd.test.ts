// models/fashion_mnist_kd: every net checks clean, the online net's frozen teacher does no backward work (the
// per-layer numbers of `kdnet time`), and the offline TempSoftmax net trains from a logits LMDB written by
// `kdnet extract`, as the model's README says.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { setLogSink } from '../../src/log.js';
import { checkError, checkFile, type NetCheck } from '../../src/net/check.js';
import { buildFashionMnist } from '../../src/data/fashion-mnist.js';
import { timeNet } from '../../src/net/test-time.js';
import { extractSoftTargets } from '../../src/distill/extract.js';
import { printCaffeText } from '../../src/proto/text.js';
import { Solver } from '../../src/solvers/solver.js';
import { Net } from '../../src/net/net.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { loadNetFile, loadSolverFile } from '../../src/proto/load.js';
import { writeCaffemodel } from '../../src/proto/weights.js';

const MODEL = path.resolve('models/fashion_mnist_kd');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-fmnist-kd-'));
const TEACHER_LAYERS = ['conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2'];

/** A copy of a model file with its data paths moved into the test's folder. */
function relocated(file: string): string {
  const out = path.join(dir, path.basename(file));
  fs.writeFileSync(out, fs.readFileSync(file, 'utf8').replaceAll('"data/fashion-mnist/', `"${dir}/`).replaceAll('"models/fashion_mnist_kd/', `"${dir}/`).replaceAll('"runs/fashion_mnist_kd/', `"${dir}/runs/`));
  return out;
}

let teacherWeights = '';

beforeAll(async () => {
  await initBackend('wasm', true);
  setLogSink(() => {});
  await buildFashionMnist({ outDir: dir });
  // A teacher with its fillers' random weights: what is tested here is the plumbing, not accuracy.
  const lenet = filterNet(loadNetFile(relocated('models/lenet/lenet_train_test.prototxt')).message, { phase: Phase.TEST, level: 0, stage: [] });
  const teacher = new Net(lenet, { phase: Phase.TEST, seed: 3 });
  teacherWeights = path.join(dir, 'teacher.caffemodel');
  try {
    writeCaffemodel(teacher, teacherWeights);
  } finally {
    teacher.dispose();
  }
}, 60_000);

describe('models/fashion_mnist_kd', () => {
  it('every net checks clean, every solver names a net of the folder', () => {
    const files = fs.readdirSync(MODEL).filter((f) => f.endsWith('.prototxt'));
    expect(files.sort()).toEqual(['kd_online_solver.prototxt', 'kd_online_train_val.prototxt', 'kd_tempsoftmax_solver.prototxt', 'kd_tempsoftmax_train_val.prototxt', 'student.prototxt', 'student_solver.prototxt']);
    for (const f of files.filter((n) => !n.endsWith('_solver.prototxt'))) expect(checkError(checkFile(path.join(MODEL, f)) as NetCheck), f).toBeUndefined();
    for (const f of files.filter((n) => n.endsWith('_solver.prototxt'))) {
      const net = loadSolverFile(path.join(MODEL, f)).message.net as string;
      expect(files).toContain(path.basename(net));
    }
  });

  it('kdnet time: the frozen teacher of the online net does no backward work; the student does', () => {
    const net = relocated(path.join(MODEL, 'kd_online_train_val.prototxt'));
    const r = timeNet({ model: net, weights: [teacherWeights], iterations: 2, phase: Phase.TRAIN });
    const byName = new Map(r.layers.map((l) => [l.name, l]));
    for (const name of TEACHER_LAYERS) {
      expect(byName.get(name)!.backward, name).toBe(false);
      expect(byName.get(name)!.backwardMs, name).toBe(0);
      expect(byName.get(name)!.forwardMs, name).toBeGreaterThan(0);
    }
    for (const name of ['s_ip1', 's_ip2', 'soft_loss', 'loss']) expect(byName.get(name)!.backward, name).toBe(true);
  }, 60_000);

  it('the offline net trains from the teacher logits kdnet extract writes beside the training LMDB', async () => {
    await extractSoftTargets({ teachers: [{ model: relocated('models/lenet/lenet_train_test.prototxt'), weights: [teacherWeights] }], blob: 'ip2', logits: true, phase: Phase.TRAIN, out: path.join(dir, 'fashion_train_teacher_logits_lmdb') });
    relocated(path.join(MODEL, 'kd_tempsoftmax_train_val.prototxt'));
    const solverFile = relocated(path.join(MODEL, 'kd_tempsoftmax_solver.prototxt'));
    const param = loadSolverFile(solverFile).message;
    param.max_iter = 5;
    param.snapshot = 0;
    const solver = new Solver(param, { solverFile });
    try {
      const before = Float32Array.from(solver.net.learnableParams[0]!.tensor.dataSync());
      const losses: number[] = [];
      solver.events = { onDisplay: (e) => losses.push(e.loss) };
      await solver.solve();
      expect(losses.every(Number.isFinite)).toBe(true);
      // Both losses ran: the soft one on the logits read in step with the images.
      const soft = solver.net.blob('soft_loss').dataSync()[0]!;
      expect(soft).toBeGreaterThan(0);
      expect(Array.from(solver.net.learnableParams[0]!.tensor.dataSync())).not.toEqual(Array.from(before));
    } finally {
      solver.dispose();
    }
    expect(printCaffeText(param, 'SolverParameter')).toContain('kd_tempsoftmax_train_val.prototxt');
  }, 120_000);
});
