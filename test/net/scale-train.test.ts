// caffe-fast-rcnn's `dropout_param { scale_train: false }` upgraded to master's Dropout + Power: the net
// computes the fork's function (dropout_layer.cpp there): TRAIN y = x·mask (no scale), TEST y = x·(1/scale_)
// with scale_ = 1/(1 - ratio) in float; the TRAIN gradient is diff·mask.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadNetFile } from '../../src/proto/load.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { Net } from '../../src/net/net.js';
import { initBackend } from '../../src/backend/select.js';
import { setLogSink } from '../../src/log.js';

const RATIO = 0.3;
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-scale-train-')), 'fork.prototxt');
fs.writeFileSync(
  file,
  `force_backward: true
layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 4 dim: 1000 } } }
layer { name: "drop" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: ${RATIO} scale_train: false } }
`,
);

function build(phase: number): { net: Net; x: Float32Array } {
  const { message } = loadNetFile(file);
  const net = new Net(filterNet(message, { phase, level: 0, stage: [] }), { phase, seed: 7 });
  const x = Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i) * 3 + 0.1);
  net.setInput('x', tf.tensor(x, [4, 1000]));
  return { net, x };
}

describe('scale_train: false after the upgrade', () => {
  const warnings: string[] = [];
  let restore: ReturnType<typeof setLogSink>;
  beforeAll(async () => {
    await initBackend('cpu', true);
    restore = setLogSink((level, m) => void (level === 'W' && warnings.push(m)));
  });
  afterAll(() => setLogSink(restore));

  it('adds one Power layer with the fork’s test-time multiplier, and says so', () => {
    const { message } = loadNetFile(file);
    expect(message.layer.map((l: { type: string }) => l.type)).toEqual(['Input', 'Dropout', 'Power']);
    expect(message.layer[2].power_param.scale).toBe(Math.fround(1 / Math.fround(1 / (1 - Math.fround(RATIO)))));
    expect(warnings.some((w) => w.includes('layer "drop": dropout_param { scale_train: false }'))).toBe(true);
  });

  it('TEST: y = x · (1/scale_) bit for bit, as the fork computes it', () => {
    const { net, x } = build(Phase.TEST);
    net.forward();
    const m = Math.fround(1 / Math.fround(1 / (1 - Math.fround(RATIO))));
    const y = net.blob('y').dataSync();
    expect(Array.from(y)).toEqual(Array.from(x, (v) => Math.fround(v * m)));
    net.dispose();
  });

  it('TRAIN: kept elements unscaled (to float rounding), dropped ones zero; the gradient is the mask', () => {
    const { net, x } = build(Phase.TRAIN);
    net.forward();
    const y = net.blob('y').dataSync();
    let dropped = 0;
    y.forEach((v, i) => {
      if (v === 0) dropped++;
      else expect(Math.abs(v - x[i]!)).toBeLessThanOrEqual(2 ** -22 * Math.abs(x[i]!));
    });
    expect(dropped / y.length).toBeGreaterThan(RATIO - 0.05);
    expect(dropped / y.length).toBeLessThan(RATIO + 0.05);
    net.setTopDiff('y', tf.ones([4, 1000]));
    net.backward();
    const dx = net.blobDiff('x')!.dataSync();
    dx.forEach((d, i) => {
      if (y[i] === 0) expect(d).toBe(0);
      else expect(Math.abs(d - 1)).toBeLessThanOrEqual(2 ** -22);
    });
    net.dispose();
  });
});
