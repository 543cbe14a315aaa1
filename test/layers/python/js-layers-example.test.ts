// The worked example in models/js_layers: its JavaScript loss layers agree with Caffe's built-in losses and
// with finite differences, and its net (JavaScript data layer + JavaScript loss) trains through the CLI.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/select.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Phase } from '../../../src/net/net-state.js';
import { Rng } from '../../../src/util/rng.js';
import { PythonLayer } from '../../../src/layers/python/python-layer.js';
import { loadJsLayers } from '../../../src/layers/python/preload.js';
import type { Layer } from '../../../src/layers/layer.js';
import { runCli } from '../../../src/cli/main.js';
import { bufferIO } from '../../../src/cli/io.js';
import { checkGradient, makeLayer } from '../../support/gradient-check.js';
import { projectRoot } from '../../support/shared.js';
import { tempDir } from './helpers.js';

const example = path.join(projectRoot, 'models', 'js_layers');

async function portedLayer(cls: string): Promise<Layer> {
  const net = parseCaffeText(`layer { name: "loss" type: "Python" bottom: "a" bottom: "b" top: "loss" python_param { module: "js_losses" layer: "${cls}" } }`, 'NetParameter').message;
  await loadJsLayers(net, { layersPath: [example] });
  return new PythonLayer(net.layer[0], { phase: Phase.TRAIN, rng: new Rng(1), layersPath: [example] });
}

/** Forward and backward of a loss layer on the same inputs, with a top diff of `weight`. */
function run(layer: Layer, shapes: number[][], inputs: Float32Array[], weight: number, propagate: boolean[]) {
  layer.setup(shapes);
  const bottoms = inputs.map((v, i) => tf.tensor(v, shapes[i]));
  const [top] = layer.forward(bottoms);
  const { bottomDiffs } = layer.backward(bottoms, [top!], [tf.fill(top!.shape, weight)], propagate);
  const out = { loss: top!.dataSync()[0]!, diffs: bottomDiffs.map((d) => (d ? Array.from(d.dataSync()) : null)) };
  tf.dispose([...bottoms, top!, ...bottomDiffs.filter((d): d is tf.Tensor => !!d)]);
  return out;
}

const expectClose = (a: number[], b: number[], tol: number) => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!))));
};

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('models/js_layers', () => {
  const rng = new Rng(11);
  const scores = Float32Array.from({ length: 8 * 10 }, () => 3 * rng.normal());
  const labels = Float32Array.from({ length: 8 }, (_, i) => (i * 7) % 10);

  it('SoftmaxCrossEntropyLoss matches the built-in SoftmaxWithLoss in loss and gradient', async () => {
    const shapes = [[8, 10], [8]];
    const js = run(await portedLayer('SoftmaxCrossEntropyLoss'), shapes, [scores, labels], 1.5, [true, false]);
    const builtIn = run(makeLayer('name: "loss" type: "SoftmaxWithLoss" bottom: "a" bottom: "b" top: "loss"'), shapes, [scores, labels], 1.5, [true, false]);
    expect(js.loss).toBeGreaterThan(0.5);
    expect(Math.abs(js.loss - builtIn.loss)).toBeLessThan(1e-5 * builtIn.loss);
    expectClose(js.diffs[0]!, builtIn.diffs[0]!, 1e-6);
    expect(js.diffs[1]).toBeNull();
  });

  it('EuclideanLoss matches the built-in EuclideanLoss for both bottoms', async () => {
    const target = Float32Array.from({ length: 80 }, () => rng.normal());
    const shapes = [[8, 10], [8, 10]];
    const js = run(await portedLayer('EuclideanLoss'), shapes, [scores, target], 0.7, [true, true]);
    const builtIn = run(makeLayer('name: "loss" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss"'), shapes, [scores, target], 0.7, [true, true]);
    expect(Math.abs(js.loss - builtIn.loss)).toBeLessThan(1e-5 * builtIn.loss);
    expectClose(js.diffs[0]!, builtIn.diffs[0]!, 1e-6);
    expectClose(js.diffs[1]!, builtIn.diffs[1]!, 1e-6);
  });

  it('SoftmaxCrossEntropyLoss passes a finite-difference gradient check', async () => {
    const layer = await portedLayer('SoftmaxCrossEntropyLoss');
    const result = checkGradient(layer, { bottoms: [{ shape: [4, 5] }, { shape: [4], values: new Float32Array([0, 4, 2, 1]), check: false }], checkParams: false });
    expect(result.checked).toBe(20);
    expect(result.failures).toEqual([]);
  });

  it('trains with `kdnet train --layers-path models/js_layers`: the loss goes down and the JS data layer feeds the test net', async () => {
    const dir = tempDir('example');
    const solver = fs
      .readFileSync(path.join(example, 'solver.prototxt'), 'utf8')
      .replace(/^net: .*$/m, `net: "${path.join(example, 'train_test.prototxt')}"`)
      .replace(/^display: .*$/m, 'display: 5')
      .replace(/^snapshot_prefix: .*$/m, `snapshot_prefix: "${dir}/mlp"\nsnapshot_after_train: false`);
    fs.writeFileSync(path.join(dir, 'solver.prototxt'), solver);
    const json = path.join(dir, 'log.jsonl');
    const io = bufferIO();
    const code = await runCli(['train', '--solver', path.join(dir, 'solver.prototxt'), '--layers-path', example, '--iterations', '40', '--backend', 'cpu', '--log-json', json], io);
    expect(code, io.stderr).toBe(0);
    const events = fs.readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; iter: number; loss: number; outputs: Array<{ name: string; value: number }> });
    const losses = events.filter((e) => e.event === 'train').map((e) => e.loss);
    expect(losses).toHaveLength(8); // display iterations 0, 5, ..., 35
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(losses[0]).toBeGreaterThan(1.8); // ≈ ln 10 before training
    expect(mean(losses.slice(-3))).toBeLessThan(0.6 * mean(losses.slice(0, 2)));
    const test = events.find((e) => e.event === 'test')!;
    expect(test.iter).toBe(0);
    expect(test.outputs.map((o) => o.name)).toEqual(['accuracy', 'loss']);
    expect(fs.readdirSync(dir).filter((f) => f.includes('caffemodel'))).toEqual([]);
  });
});
