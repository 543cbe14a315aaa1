// The old recipes' numbers, computed by hand from their formulas, against the converted nets' losses and
// student gradients: equal up to the factor the converter prints (recipe 1), different in kind as it says
// (recipe 2), unchanged where it drops a layer as redundant (recipe 3).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { convertDistillFile, type Conversion, type ConvertOptions } from '../../src/distill/convert/index.js';
import { Net } from '../../src/net/net.js';
import { Phase } from '../../src/net/net-state.js';
import { loadNetFile } from '../../src/proto/load.js';
import { setLogSink } from '../../src/log.js';
import type { Message } from '../../src/proto/schema.js';
import { tempDir } from '../support/data.js';
import { softmaxAt, writeFile } from './support.js';

const dir = tempDir('kdnet-distill-numerics-');
const [N, C] = [3, 5];
const student = [0.3, -1.2, 2.5, 0.0, 0.7, -0.4, 1.1, -2.0, 0.9, 3.1, 1.5, 1.4, -0.6, 0.2, -1.8];
const teacher = [2.0, -0.5, 4.0, -1.0, 1.0, 0.5, 3.0, -3.0, 0.0, 6.0, 2.5, 0.5, -2.0, 1.0, -1.5];
const rows = (xs: number[]) => Array.from({ length: N }, (_, n) => xs.slice(n * C, (n + 1) * C));
const dims = `input_dim: ${N} input_dim: ${C} input_dim: 1 input_dim: 1`;

beforeAll(async () => {
  await initBackend('cpu', true);
});

function quietly<T>(fn: () => T): T {
  const restore = setLogSink(() => {});
  try {
    return fn();
  } finally {
    setLogSink(restore);
  }
}

const convert = (name: string, text: string, options: ConvertOptions = {}): Conversion =>
  quietly(() => convertDistillFile(writeFile(dir, `${name}.prototxt`, text), options));

/** One forward and backward pass: the loss top's unweighted value and d(objective)/d(input `diffOf`). */
function run(net: Message, inputs: Record<string, number[]>, lossTop: string, diffOf: string, shape = [N, C, 1, 1]): { loss: number; diff: number[] } {
  const n = quietly(() => new Net(net, { phase: Phase.TRAIN }));
  try {
    for (const [name, v] of Object.entries(inputs)) n.setInput(name, tf.tensor(v, shape));
    n.forward();
    const loss = n.blob(lossTop).dataSync()[0]!;
    n.backward();
    return { loss, diff: Array.from(n.blobDiff(diffOf)!.dataSync()) };
  } finally {
    n.dispose();
  }
}

function expectClose(got: number[], want: number[], rtol = 1e-5, atol = 1e-7): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(atol + rtol * Math.abs(want[i]!)));
}

const printed = (text: string, pattern: RegExp): number => Number(pattern.exec(text)![1]);

describe('recipe 1: CROSS_ENTROPY_LOSS over Power-scaled softmaxes → KnowledgeDistillation', () => {
  const [T, W] = [4, 0.7];
  const recipe = (shape: number[]) => `name: "kd_numerics"
input: "s_logits" ${shape.map((d) => `input_dim: ${d}`).join(' ')}
input: "t_logits" ${shape.map((d) => `input_dim: ${d}`).join(' ')}
force_backward: true
layers { name: "s_temp" type: POWER bottom: "s_logits" top: "s_T" power_param { power: 1 scale: 0.25 shift: 0 } }
layers { name: "s_soft" type: SOFTMAX bottom: "s_T" top: "q" }
layers { name: "t_temp" type: POWER bottom: "t_logits" top: "t_T" power_param { power: 1 scale: 0.25 shift: 0 } }
layers { name: "t_soft" type: SOFTMAX bottom: "t_T" top: "p" }
layers { name: "kd" type: CROSS_ENTROPY_LOSS bottom: "q" bottom: "p" top: "kd" loss_weight: ${W} }
`;

  /**
   * The old recipe by hand on N×C×H×W logits: Caffe's Softmax over C at each position, L = −Σ p·log q / N
   * (the old layer divides by the batch size); the gradient on the unscaled student logits.
   */
  function oldRecipe([n, c, h, w]: number[], zs: number[], zt: number[]) {
    const hw = h! * w!;
    let loss = 0;
    let entropy = 0;
    const grad = new Array<number>(zs.length).fill(0);
    for (let i = 0; i < n!; i++) {
      for (let j = 0; j < hw; j++) {
        const at = Array.from({ length: c! }, (_, k) => i * c! * hw + k * hw + j);
        const q = softmaxAt(at.map((x) => zs[x]!), T);
        const p = softmaxAt(at.map((x) => zt[x]!), T);
        at.forEach((x, k) => {
          loss -= (p[k]! * Math.log(q[k]!)) / n!;
          entropy -= (p[k]! * Math.log(p[k]!)) / n!;
          grad[x] = (W * (q[k]! - p[k]!)) / (n! * T); // through Softmax: (q − p)/N; through Power: × 1/T
        });
      }
    }
    return { loss, entropy, grad };
  }

  const spatial = [2, 3, 2, 2];
  const cases: Array<[string, number[], number[], number[]]> = [
    ['N×C logits', [N, C, 1, 1], student, teacher],
    ['N×C×H×W logits', spatial, Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 3), Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.9) * 5)],
  ];
  for (const [what, shape, zs, zt] of cases) {
    it(`${what}: KL = the old cross-entropy minus the teacher entropy; gradient = the printed T² times the old one`, () => {
      const c = convert(`r1_${shape.join('x')}`, recipe(shape));
      const kd = (c.net.layer as Message[]).find((l) => l.name === 'kd')!;
      expect(kd.type).toBe('KnowledgeDistillation');
      const old = oldRecipe(shape, zs, zt);
      const got = run(c.net, { s_logits: zs, t_logits: zt }, 'kd', 's_logits', shape);
      expect(got.loss).toBeCloseTo(old.loss - old.entropy, 5);
      const factor = printed(c.warnings.join('\n'), /T² = ([\d.]+) times larger/);
      expect(factor).toBe(T * T);
      expectClose(got.diff, old.grad.map((g) => factor * g));
    });
  }

  it('with the printed equivalent loss_weight (--match-old-gradients), the gradient is the old one', () => {
    const plain = convert('r1_plain', recipe([N, C, 1, 1]));
    const equivalent = printed(plain.warnings.join('\n'), /loss_weight ([\d.e-]+) \(= [\d.]+ \/ T²\) trains exactly/);
    const c = convert('r1_match', recipe([N, C, 1, 1]), { matchOldGradients: true });
    expect((c.net.layer as Message[]).find((l) => l.name === 'kd')!.loss_weight[0]).toBeCloseTo(equivalent, 7);
    expectClose(run(c.net, { s_logits: student, t_logits: teacher }, 'kd', 's_logits').diff, oldRecipe([N, C, 1, 1], student, teacher).grad);
  });
});

describe('recipe 2: SIGMOID_CROSS_ENTROPY_LOSS on Power-scaled logits → TempSoftmaxCrossEntropyLoss', () => {
  const [T, W] = [5, 2];
  const targets = rows(teacher).flatMap((z) => softmaxAt(z, T)); // the second database: teacher softmax at T
  const recipe = `name: "sigmoid_numerics"
input: "logits" ${dims}
input: "soft_targets" ${dims}
force_backward: true
layers { name: "temp" type: POWER bottom: "logits" top: "logits_T" power_param { power: 1 scale: 0.2 shift: 0 } }
layers { name: "soft_loss" type: SIGMOID_CROSS_ENTROPY_LOSS bottom: "logits_T" bottom: "soft_targets" top: "soft_loss" loss_weight: ${W} }
`;
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

  /** By hand: −Σ[p·log σ(z/T) + (1 − p)·log(1 − σ(z/T))]/N and its gradient (σ(z/T) − p)/(N·T) on the logits. */
  function oldRecipe() {
    let loss = 0;
    const grad = student.map((z, i) => {
      const [s, p] = [sigmoid(z / T), targets[i]!];
      loss -= (p * Math.log(s) + (1 - p) * Math.log(1 - s)) / N;
      return (W * (s - p)) / (N * T);
    });
    return { loss, grad };
  }

  /** The new loss by hand: −Σ p·log softmax(z/T)/N against the same stored p, and Hinton's gradient. */
  function newFormula() {
    let loss = 0;
    const grad: number[] = [];
    rows(student).forEach((zs, n) => {
      const q = softmaxAt(zs, T);
      const p = targets.slice(n * C, (n + 1) * C);
      const target = p.map((pk) => T * Math.log(pk)); // the Log layer: T·ln p
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const [ms, mt] = [mean(zs), mean(target)];
      p.forEach((pk, k) => {
        loss -= (pk * Math.log(q[k]!)) / N;
        grad.push((W * (zs[k]! - ms - (target[k]! - mt))) / (C * T * T * N));
      });
    });
    return { loss, grad };
  }

  it('the old net in kdnet agrees with the hand formula (it uses only stock layers)', () => {
    const old = quietly(() => loadNetFile(writeFile(dir, 'r2_old.prototxt', recipe))).message;
    const got = run(old, { logits: student, soft_targets: targets }, 'soft_loss', 'logits');
    expect(got.loss).toBeCloseTo(oldRecipe().loss, 5);
    expectClose(got.diff, oldRecipe().grad);
  });

  it('the converted loss trains toward exactly the stored p, with Hinton gradient; the old one differs in kind', () => {
    const c = convert('r2', recipe);
    const got = run(c.net, { logits: student, soft_targets: targets }, 'soft_loss', 'logits');
    const want = newFormula();
    expect(got.loss).toBeCloseTo(want.loss, 5);
    expectClose(got.diff, want.grad, 1e-4, 1e-7);
    // Not a rescaling of the old gradient: even the best factor k leaves most of the new gradient unexplained.
    const old = oldRecipe().grad;
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const k = dot(got.diff, old) / dot(old, old);
    const residual = got.diff.map((g, i) => g - k * old[i]!);
    expect(Math.sqrt(dot(residual, residual) / dot(got.diff, got.diff))).toBeGreaterThan(0.5);
    const warning = c.warnings.join('\n');
    expect(warning).toContain('They differ in kind, not by a factor');
    expect(printed(warning, /loss_weight ([\d.]+)\.$/m)).toBe(W * T * T);
  });
});

describe('recipe 3: kdistil, MVN (mean only, across channels) + TempSoftmaxCrossEntropyLoss', () => {
  const recipe = `name: "kdistil_numerics"
layer { name: "in" type: "Input" top: "logits" top: "targets" input_param { shape { dim: ${N} dim: ${C} } shape { dim: ${N} dim: ${C} } } }
force_backward: true
layer { name: "mvn" type: "MVN" bottom: "logits" top: "logits_mvn" mvn_param { normalize_variance: false across_channels: true } }
layer { name: "loss" type: "TempSoftmaxCrossEntropyLoss" bottom: "logits_mvn" bottom: "targets" top: "loss" loss_weight: 9 tempsoftmax_param { temperature: 3 } }
`;

  it('dropping the MVN changes neither the loss nor the student gradient', () => {
    const old = quietly(() => loadNetFile(writeFile(dir, 'r3_old.prototxt', recipe))).message;
    const c = convert('r3', recipe);
    expect((c.net.layer as Message[]).map((l) => l.type)).toEqual(['Input', 'TempSoftmaxCrossEntropyLoss']);
    const inputs = { logits: student, targets: teacher };
    const before = run(old, inputs, 'loss', 'logits');
    const after = run(c.net, inputs, 'loss', 'logits');
    expect(after.loss).toBeCloseTo(before.loss, 6);
    expectClose(after.diff, before.diff, 1e-5, 1e-8);
  });
});
