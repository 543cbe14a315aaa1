// `kdnet train` on Caffe's own LeNet files (lenet_solver.prototxt + lenet_train_test.prototxt from the corpus),
// unchanged except for the LMDB paths (a synthetic 10-class set written as Caffe's convert_mnist_data writes
// MNIST) and a shorter schedule: it must reach high test accuracy.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { corpusRoot, hasCorpus } from '../support/shared.js';
import { loadNetFile, loadSolverFile } from '../../src/proto/load.js';
import { type Message } from '../../src/proto/schema.js';
import { printCaffeText } from '../../src/proto/text.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { createDbWriter, recordKey } from '../../src/data/db/index.js';
import { encodeDatum } from '../../src/data/datum.js';
import { initBackend } from '../../src/backend/select.js';

/** Class c: a bright 6×6 square at one of 10 grid positions, on noise, as 0–255 pixel values. */
function squares(n: number, seed: number): { data: Float32Array; labels: Float32Array } {
  let s = seed;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const data = new Float32Array(n * 28 * 28);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rnd() * 10);
    labels[i] = c;
    const oy = 2 + 9 * Math.floor(c / 4) + Math.floor(rnd() * 3);
    const ox = 1 + 7 * (c % 4) + Math.floor(rnd() * 2);
    for (let p = 0; p < 28 * 28; p++) data[i * 784 + p] = 60 * rnd();
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) data[i * 784 + (oy + y) * 28 + ox + x] = 200 + 55 * rnd();
  }
  return { data, labels };
}

describe.skipIf(!hasCorpus)('LeNet end to end with Caffe\'s own solver and net files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-lenet-'));
  beforeAll(async () => {
    await initBackend('cpu', true);
    for (const [name, n, seed] of [['train', 640, 1], ['test', 200, 2]] as const) {
      const { data, labels } = squares(n, seed);
      const db = createDbWriter(path.join(dir, `${name}_lmdb`), 'lmdb');
      for (let i = 0; i < n; i++) {
        const pixels = Uint8Array.from(data.subarray(i * 784, (i + 1) * 784), Math.round);
        await db.put(recordKey(i), encodeDatum({ channels: 1, height: 28, width: 28, data: pixels, label: labels[i]! }));
      }
      await db.finish();
    }
    // The corpus net as it is, with its two LMDB sources pointed at these databases.
    const { message: net } = loadNetFile(path.join(corpusRoot, 'BVLC__caffe/examples/mnist/lenet_train_test.prototxt'));
    for (const layer of net.layer as Message[]) {
      if (layer.type !== 'Data') continue;
      layer.data_param.source = path.join(dir, layer.include[0].phase === 0 ? 'train_lmdb' : 'test_lmdb');
    }
    fs.writeFileSync(path.join(dir, 'lenet_train_test.prototxt'), printCaffeText(net, 'NetParameter'));
    const { message: solver } = loadSolverFile(path.join(corpusRoot, 'BVLC__caffe/examples/mnist/lenet_solver.prototxt'));
    solver.net = path.join(dir, 'lenet_train_test.prototxt');
    solver.snapshot_prefix = path.join(dir, 'lenet');
    solver.test_iter = [2];
    solver.test_interval = 60;
    solver.display = 30;
    solver.max_iter = 120;
    solver.snapshot = 0;
    fs.writeFileSync(path.join(dir, 'lenet_solver.prototxt'), printCaffeText(solver, 'SolverParameter'));
  });

  it('reaches > 95% test accuracy in 120 iterations', async () => {
    const json = path.join(dir, 'events.jsonl');
    const io = bufferIO();
    const code = await runCli(['train', '--solver', path.join(dir, 'lenet_solver.prototxt'), '--backend', 'wasm', '--log-json', json], io);
    expect(code, io.stderr.slice(-3000)).toBe(0);
    const tests = fs.readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'test');
    expect(tests.map((t) => t.iter)).toEqual([0, 60, 120]);
    const accuracy = tests.at(-1).outputs.find((o: { name: string }) => o.name === 'accuracy').value;
    expect(accuracy).toBeGreaterThan(0.95);
    expect(fs.existsSync(path.join(dir, 'lenet_iter_120.caffemodel'))).toBe(true);
  }, 600_000);
});
