// The three old recipes convert to nets `kdnet check` accepts and that train: finite, falling losses, and a
// teacher whose parameters do not move.
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { convertDistillFile, writeConversion, type Conversion } from '../../src/distill/convert/index.js';
import { checkFile, checkError, type NetCheck } from '../../src/net/check.js';
import { setLogSink } from '../../src/log.js';
import type { Message } from '../../src/proto/schema.js';
import { tempDir } from '../support/data.js';
import { caffeUsersRecipe, kdistilRecipe, sigmoidRecipe, train, writeDatabases, writeFile } from './support.js';

const dir = tempDir('kdnet-distill-convert-');

beforeAll(async () => {
  await initBackend('cpu', true);
  await writeDatabases(dir);
});

function convert(name: string, text: string, options = {}): { c: Conversion; out: string } {
  const restore = setLogSink(() => {});
  try {
    const c = convertDistillFile(writeFile(dir, `${name}.prototxt`, text), options);
    const out = path.join(dir, `${name}.converted.prototxt`);
    writeConversion(c, out);
    return { c, out };
  } finally {
    setLogSink(restore);
  }
}

function checked(file: string): NetCheck {
  const report = checkFile(file) as NetCheck;
  expect(checkError(report)).toBeUndefined();
  return report;
}

const layer = (c: Conversion, name: string): Message => (c.net.layer as Message[]).find((l) => l.name === name)!;
const types = (c: Conversion) => (c.net.layer as Message[]).map((l) => `${l.name}:${l.type}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function expectFallingFiniteLoss(losses: number[]): void {
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
}

describe('recipe 1: Power + Softmax + CROSS_ENTROPY_LOSS (V1, teacher and student in one net)', () => {
  it('becomes KnowledgeDistillation on the unscaled logits with the teacher frozen, and trains', async () => {
    const { c, out } = convert('caffe_users', caffeUsersRecipe(dir));
    expect(c.format).toBe('V1');
    expect(c.recipes.map((r) => r.split(':')[0])).toEqual(['power-cross-entropy']);
    expect(types(c)).toEqual([
      'data:Data',
      't_ip1:InnerProduct',
      't_relu1:ReLU',
      't_ip2:InnerProduct',
      's_ip1:InnerProduct',
      's_relu1:ReLU',
      's_ip2:InnerProduct',
      'kd_loss:KnowledgeDistillation',
      'hard_loss:SoftmaxWithLoss',
    ]);
    const kd = layer(c, 'kd_loss');
    expect(kd.bottom).toEqual(['s_ip2', 't_ip2']);
    expect(kd.top).toEqual(['kd_loss']);
    expect(kd.knowledge_distillation_param.temperature).toBe(4);
    expect(kd.loss_weight).toEqual([Math.fround(0.9)]);
    for (const t of ['t_ip1', 't_ip2']) expect(layer(c, t).param.map((p: Message) => [p.lr_mult, p.decay_mult])).toEqual([[0, 0], [0, 0]]);
    expect(layer(c, 's_ip2').param.map((p: Message) => p.lr_mult)).toEqual([1, 2]);
    expect(c.changes.join('\n')).toContain('froze the teacher: param { lr_mult: 0 decay_mult: 0 } on "t_ip1", "t_ip2"');
    expect(c.warnings.join('\n')).toContain('loss_weight 0.05625 (= 0.9 / T²) trains exactly as the old recipe did');

    const report = checked(out);
    expect(report.format).toBe('V2');
    const run = await train(dir, out, 30, ['t_ip1', 't_ip2', 's_ip2']);
    expectFallingFiniteLoss(run.losses);
    expect(run.after.get('t_ip1')).toEqual(run.before.get('t_ip1'));
    expect(run.after.get('t_ip2')).toEqual(run.before.get('t_ip2'));
    expect(run.after.get('s_ip2')).not.toEqual(run.before.get('s_ip2'));
  });

  it('--match-old-gradients writes loss_weight w/T²', () => {
    const { c } = convert('caffe_users_match', caffeUsersRecipe(dir), { matchOldGradients: true });
    expect(layer(c, 'kd_loss').loss_weight[0]).toBe(Math.fround(Math.fround(0.9) / 16));
  });
});

describe('recipe 2: Power + SIGMOID_CROSS_ENTROPY_LOSS against a second database (V1)', () => {
  it('becomes TempSoftmaxCrossEntropyLoss on the unscaled logits, targets turned back into logits, and trains', async () => {
    const { c, out } = convert('soft_db', sigmoidRecipe(dir));
    expect(c.recipes.map((r) => r.split(':')[0])).toEqual(['power-sigmoid']);
    expect(types(c)).toEqual([
      'data:Data',
      'soft:Data',
      'ip1:InnerProduct',
      'relu1:ReLU',
      'ip2:InnerProduct',
      'soft_targets_logits:Log',
      'soft_loss:TempSoftmaxCrossEntropyLoss',
      'hard_loss:SoftmaxWithLoss',
    ]);
    const loss = layer(c, 'soft_loss');
    expect(loss.bottom).toEqual(['ip2', 'soft_targets_logits']);
    expect(loss.tempsoftmax_param.temperature).toBe(4);
    expect(loss.loss_weight).toEqual([2]);
    expect(Math.log(layer(c, 'soft_targets_logits').log_param.base)).toBeCloseTo(1 / 4, 7);
    expect(c.warnings.join('\n')).toContain('Hinton\'s weighting of the soft loss next to a hard one is T² = 16: loss_weight 32');

    checked(out);
    const run = await train(dir, out, 30, ['ip2']);
    expectFallingFiniteLoss(run.losses);
  });
});

describe('recipe 3: kdistil (MVN + TempSoftmaxCrossEntropyLoss, teacher logits from a second database)', () => {
  it('keeps the loss, drops the redundant MVN, and trains', async () => {
    const { c, out } = convert('kdistil', kdistilRecipe(dir));
    expect(c.recipes.map((r) => r.split(':')[0])).toEqual(['kdistil']);
    expect(types(c)).not.toContain('ip2_mvn:MVN');
    expect(layer(c, 'soft_loss').bottom).toEqual(['ip2', 'soft_targets']);
    expect(c.changes.join('\n')).toContain('dropped "ip2_mvn" (MVN, mean only, across channels)');
    expect(c.changes.join('\n')).toContain(`its targets 'soft_targets' come from "soft" (Data, '${dir}/soft_logits_lmdb')`);
    expect(c.warnings).toEqual([]); // loss_weight 16 is already T²

    checked(out);
    const run = await train(dir, out, 30, ['ip2'], 0.01);
    expectFallingFiniteLoss(run.losses);
  });

  it('keeps an MVN that does something the loss does not, and says why', () => {
    const { c } = convert('kdistil_per_channel', kdistilRecipe(dir, 'normalize_variance: false'));
    expect(types(c)).toContain('ip2_mvn:MVN');
    expect(c.changes.join('\n')).toContain('on N×C logits (H = W = 1) that outputs zeros');
  });

  it('freezes a teacher computed in the net', async () => {
    const text = kdistilRecipe(dir).replace(
      'layer { name: "soft" type: "Data" top: "soft_targets" data_param { source: "' + dir + '/soft_logits_lmdb" backend: LMDB batch_size: 8 } }',
      'layer { name: "t_ip" type: "InnerProduct" bottom: "data" top: "soft_targets" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 1 } } }',
    );
    const { c, out } = convert('kdistil_teacher', text);
    expect(layer(c, 't_ip').param.map((p: Message) => [p.lr_mult, p.decay_mult])).toEqual([[0, 0], [0, 0]]);
    const run = await train(dir, out, 10, ['t_ip'], 0.01);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    expect(run.after.get('t_ip')).toEqual(run.before.get('t_ip'));
  });
});
