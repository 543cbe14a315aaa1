// models/lenet_kd_hints: every file checks clean, the README's `kdnet distill init` commands regenerate the committed
// composed nets exactly, and the KD + hints net trains through the library's Solver on the shipped Fashion-MNIST
// subset with the frozen teacher bit-identical, the student moving and the conv2 hint loss falling.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { buildFashionMnist } from '../../src/data/fashion-mnist.js';
import { setLogSink } from '../../src/log.js';
import { checkError, checkFile, type NetCheck, type SolverCheck } from '../../src/net/check.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { Net } from '../../src/net/net.js';
import { loadNetFile, loadSolverFile } from '../../src/proto/load.js';
import { clear, newMessage, type Message } from '../../src/proto/schema.js';
import { printCaffeText } from '../../src/proto/text.js';
import { writeCaffemodel } from '../../src/proto/weights.js';
import { Solver } from '../../src/solvers/solver.js';
import { projectRoot } from '../support/shared.js';
import { tempDir } from '../support/data.js';

const MODEL = 'models/lenet_kd_hints';
const TEACHER = 'models/lenet/lenet_train_test.prototxt';
const TEACHER_WEIGHTS = 'runs/lenet/lenet_iter_1000.caffemodel';
const dir = tempDir('kdnet-lenet-kd-hints-');
const tmp = (name: string) => path.join(dir, name);
const rel = (f: string) => path.join(projectRoot, f);
let sources: Record<string, string> = {};

/** A copy of a net whose Data sources point at the LMDBs built for this test (and optional batch sizes). */
function withTestSources(net: Message, batch: Partial<Record<'TRAIN' | 'TEST', number>> = {}): Message {
  const copy = newMessage('NetParameter', { ...net, layer: (net.layer as Message[]).map((l) => newMessage('LayerParameter', { ...l })) });
  for (const l of copy.layer as Message[]) {
    if (l.type !== 'Data') continue;
    const source = sources[l.data_param.source];
    expect(source, `a source the test did not build: ${l.data_param.source}`).toBeDefined();
    const phase = (l.include as Message[])[0]?.phase === Phase.TEST ? 'TEST' : 'TRAIN';
    l.data_param = newMessage('DataParameter', { ...l.data_param, source, ...(batch[phase] ? { batch_size: batch[phase] } : {}) });
  }
  return copy;
}

/** The `node bin/kdnet.js distill init ...` commands of the model's README, as argument lists. */
function readmeInitCommands(): string[][] {
  const text = fs.readFileSync(rel(`${MODEL}/README.md`), 'utf8').replace(/\\\n\s*/g, '');
  return text
    .split('\n')
    .filter((line) => line.startsWith('node bin/kdnet.js distill init '))
    .map((line) => line.trim().split(/\s+/).slice(2));
}

const layerValues = (net: Net, names: string[]) => names.flatMap((n) => net.layer(n).blobs.map((b) => Float32Array.from(b.dataSync() as Float32Array)));

beforeAll(async () => {
  await initBackend('wasm', true); // convolutions: the cpu backend is ~30× slower here
  setLogSink(() => {});
  const built = await buildFashionMnist({ outDir: tmp('data') });
  sources = { 'data/fashion-mnist/fashion_train_lmdb': built.databases.train, 'data/fashion-mnist/fashion_test_lmdb': built.databases.test };
  // A freshly initialised teacher stands in for the trained one: distill init only needs its layers in a .caffemodel.
  const teacher = new Net(filterNet(withTestSources(loadNetFile(rel(TEACHER)).message), { phase: Phase.TEST, level: 0, stage: [] }), { phase: Phase.TEST, seed: 5 });
  try {
    writeCaffemodel(teacher, tmp('teacher.caffemodel'));
  } finally {
    teacher.dispose();
  }
  fs.writeFileSync(tmp('student.prototxt'), printCaffeText(withTestSources(loadNetFile(rel(`${MODEL}/student.prototxt`)).message), 'NetParameter'));
});

describe('models/lenet_kd_hints', () => {
  it('every prototxt checks clean, as `kdnet check` does; the solvers share the student-alone schedule', () => {
    const files = fs.readdirSync(rel(MODEL)).filter((f) => f.endsWith('.prototxt'));
    expect(files.sort()).toEqual(['kd_hints_solver.prototxt', 'kd_hints_train_val.prototxt', 'kd_solver.prototxt', 'kd_train_val.prototxt', 'student.prototxt', 'student_solver.prototxt']);
    const cwd = process.cwd();
    process.chdir(projectRoot); // solver paths are relative to the repository root, as in Caffe
    try {
      for (const f of files) {
        const report = checkFile(path.join(MODEL, f));
        if (report.kind === 'NetParameter') expect(checkError(report as NetCheck), f).toBeUndefined();
        else expect((report as SolverCheck).warnings, f).toEqual([]);
      }
    } finally {
      process.chdir(cwd);
    }
    const schedule = (f: string) => {
      const { net, snapshot_prefix, ...rest } = loadSolverFile(rel(`${MODEL}/${f}`)).message.toJSON();
      return { net, snapshot_prefix, rest };
    };
    const alone = schedule('student_solver.prototxt');
    for (const name of ['kd', 'kd_hints']) {
      const s = schedule(`${name}_solver.prototxt`);
      expect(s.rest).toEqual(alone.rest);
      expect(s.net).toBe(`${MODEL}/${name}_train_val.prototxt`);
      expect(s.snapshot_prefix).toBe(`runs/lenet_kd_hints/${name}`);
    }
  });

  it("the README's distill init commands regenerate the committed composed nets and solvers", async () => {
    const commands = readmeInitCommands();
    expect(commands.map((argv) => argv[argv.indexOf('--name') + 1])).toEqual(['kd', 'kd_hints']);
    for (const argv of commands) {
      // The user's paths → this test's: the fresh teacher's weights, the student on the test LMDBs, a temporary folder.
      const swap: Record<string, string> = { [TEACHER_WEIGHTS]: tmp('teacher.caffemodel'), [`${MODEL}/student.prototxt`]: tmp('student.prototxt'), [MODEL]: tmp('out') };
      const args = argv.map((a, i) => (argv[i - 1] === '--solver' || argv[i - 1] === '--teacher' ? rel(a) : (swap[a] ?? a)));
      const io = bufferIO();
      expect(await runCli(args, io), io.stderr).toBe(0);
      const name = argv[argv.indexOf('--name') + 1]!;
      for (const kind of ['train_val', 'solver']) {
        let made = fs.readFileSync(tmp(`out/${name}_${kind}.prototxt`), 'utf8');
        for (const [user, test] of Object.entries({ ...swap, ...sources, [TEACHER]: rel(TEACHER), [`${MODEL}/student_solver.prototxt`]: rel(`${MODEL}/student_solver.prototxt`) })) {
          made = made.split(test).join(user);
        }
        expect(made, `${name}_${kind}.prototxt`).toBe(fs.readFileSync(rel(`${MODEL}/${name}_${kind}.prototxt`), 'utf8'));
      }
    }
  });

  it('trains the KD + hints net: teacher bit-identical, student moving, the conv2 hint loss falling', async () => {
    const param = loadSolverFile(rel(`${MODEL}/kd_hints_solver.prototxt`)).message;
    const net = withTestSources(loadNetFile(rel(`${MODEL}/kd_hints_train_val.prototxt`)).message, { TRAIN: 16, TEST: 100 });
    clear(param, 'net');
    clear(param, 'test_iter');
    Object.assign(param, { net_param: net, test_interval: 0, display: 0, snapshot: 0, snapshot_prefix: tmp('snap/kd_hints'), max_iter: 10 });
    const solver = new Solver(param, {});
    // The hint loss on the first 100 test images: a fresh TEST net (its data cursor at the start) on the solver's weights.
    const hintLoss = () => {
      const test = new Net(filterNet(net, { phase: Phase.TEST, level: 0, stage: [] }), { phase: Phase.TEST });
      try {
        test.shareParametersWith(solver.net);
        const loss = test.forward();
        const hint = test.blob('hint_loss_s_conv2').dataSync()[0]!;
        expect(Number.isFinite(loss)).toBe(true);
        return hint;
      } finally {
        test.dispose();
      }
    };
    try {
      const teacher = ['conv1', 'conv2', 'ip1', 'ip2'];
      const student = ['s_conv1', 's_conv2', 's_ip1', 's_ip2', 'hint_adapter_s_conv2'];
      const teacherBefore = layerValues(solver.net, teacher);
      const studentBefore = layerValues(solver.net, student);
      const before = hintLoss();
      const losses: number[] = [];
      solver.events.onIteration = () => losses.push(solver.net.blob('hint_loss_s_conv2').dataSync()[0]!);
      await solver.step(10);
      const after = hintLoss();
      expect(losses).toHaveLength(10);
      for (const l of losses) expect(Number.isFinite(l)).toBe(true);
      expect(layerValues(solver.net, teacher)).toEqual(teacherBefore);
      layerValues(solver.net, student).forEach((v, i) => expect(v, `student blob ${i}`).not.toEqual(studentBefore[i]));
      expect(after).toBeLessThan(0.6 * before); // 956 → 440 here (a fresh teacher, seed 1, 10 iterations)
    } finally {
      solver.dispose();
    }
  });
});
