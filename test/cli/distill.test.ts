// `kdnet distill convert` through the CLI entry point: atomic output and the change list, help, a fork's
// binary .caffemodel, and one clear error for a file that is no known recipe.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { caffeType, protobuf, type Message } from '../../src/proto/schema.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { projectRoot } from '../support/shared.js';
import { tempDir } from '../support/data.js';
import { floatParam, layer } from '../support/fork-model.js';
import { caffeUsersRecipe, writeFile } from '../distill/support.js';

const dir = tempDir('kdnet-distill-cli-');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

function expectOneCleanError(r: { code: number; stderr: string }): void {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error: '))).toHaveLength(1);
}

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('kdnet distill convert', () => {
  it('writes the converted net atomically with --out and prints the change list', async () => {
    const old = writeFile(dir, 'old.prototxt', caffeUsersRecipe(dir));
    const out = path.join(dir, 'new.prototxt');
    fs.writeFileSync(out, 'previous contents\n');
    const r = await run('distill', 'convert', old, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${old}: V1 net "distill_mlp" (upgraded: data-transformation, v1-to-v2)\n`);
    expect(r.stdout).toContain('recipe power-cross-entropy: ');
    expect(r.stdout).toContain('change: read V1 layer type stock Caffe never had: "kd_loss" (CROSS_ENTROPY_LOSS)');
    expect(r.stdout).toMatch(/^change: "kd_loss": CROSS_ENTROPY_LOSS over Softmax\(Power\) outputs → KnowledgeDistillation .* temperature 4 /m);
    expect(r.stdout).toMatch(/^warning: "kd_loss": the old gradient .* T² = 16 times larger/m);
    expect(r.stdout.endsWith(`wrote ${out}\n`)).toBe(true);
    const net = parseCaffeText(fs.readFileSync(out, 'utf8'), 'NetParameter').message;
    expect((net.layer as Message[]).map((l) => l.type)).toContain('KnowledgeDistillation');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const checked = await run('check', out);
    expect(checked.code, checked.stderr).toBe(0);
  });

  it('prints the net on standard output and the report on standard error without --out', async () => {
    const old = writeFile(dir, 'old2.prototxt', caffeUsersRecipe(dir));
    const r = await run('distill', 'convert', old);
    expect(r.code, r.stderr).toBe(0);
    const net = parseCaffeText(r.stdout, 'NetParameter').message;
    expect((net.layer as Message[]).find((l) => l.name === 'kd_loss')!.knowledge_distillation_param.temperature).toBe(4);
    expect(r.stderr).toContain('recipe power-cross-entropy: ');
    expect(r.stdout).not.toContain('recipe ');
  });

  it('has help for the group and the subcommand', async () => {
    const group = await run('distill', '--help');
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/convert \[options\] <old>/);
    const help = await run('distill', 'convert', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--out <file>');
    expect(help.stdout).toContain('--match-old-gradients');
  });

  it('fails with one clear message, naming what it looked for, when the file is no known recipe; the output is untouched', async () => {
    const out = path.join(dir, 'untouched.prototxt');
    fs.writeFileSync(out, 'keep me\n');
    const lenet = path.join(projectRoot, 'models/lenet/lenet_train_test.prototxt');
    const r = await run('distill', 'convert', lenet, '--out', out);
    expectOneCleanError(r);
    expect(r.stderr).toContain(`error: ${lenet} matches no known distillation recipe. Looked for: (1) a CROSS_ENTROPY_LOSS layer`);
    expect(r.stderr).toContain('(2) a SigmoidCrossEntropyLoss reading Power-scaled logits');
    expect(r.stderr).toContain('(3) a TempSoftmaxCrossEntropyLoss layer; (4) a KnowledgeDistillation layer');
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me\n');
  });

  it('names the layers when a recognized recipe is inconsistent (two temperatures)', async () => {
    const old = writeFile(dir, 'two_t.prototxt', caffeUsersRecipe(dir).replace('top: "s_ip2_T" power_param { power: 1 scale: 0.25', 'top: "s_ip2_T" power_param { power: 1 scale: 0.5'));
    const r = await run('distill', 'convert', old);
    expectOneCleanError(r);
    expect(r.stderr).toMatch(/two_t\.prototxt:\d+:\d+: layer "kd_loss" \(CROSS_ENTROPY_LOSS\): /);
    expect(r.stderr).toContain(`the student's Power "s_temp" divides by T = 2 but the teacher's "t_temp" by T = 4`);
  });

  describe('a fork .caffemodel (KnowledgeDistillation at the fork field 147)', () => {
    const teacher = [0.5, -0.25, 1, 2, -1, 0.75];
    let file = '';
    beforeAll(() => {
      // Everything but the distillation layer has master's field numbers (the forks share them); the KD layer is
      // written raw, as the fork wrote it.
      const base = parseCaffeText(
        `name: "fork_kd"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "ip_t" type: "InnerProduct" bottom: "data" top: "ip_t" inner_product_param { num_output: 2 bias_term: false }
  blobs { shape { dim: 2 dim: 3 } ${teacher.map((v) => `data: ${v}`).join(' ')} } }
layer { name: "ip_s" type: "InnerProduct" bottom: "data" top: "ip_s" inner_product_param { num_output: 2 bias_term: false }
  blobs { shape { dim: 2 dim: 3 } data: 0 data: 0 data: 0 data: 0 data: 0 data: 0 } }`,
        'NetParameter',
      ).message;
      const kd = protobuf.Writer.create();
      layer(kd, 'kd', 'KnowledgeDistillation', ['ip_s', 'ip_t'], (w) => floatParam(w, 147, 6), ['kd_loss']);
      file = path.join(dir, 'fork.caffemodel');
      fs.writeFileSync(file, Buffer.concat([caffeType('NetParameter').encode(base).finish(), kd.finish()]));
    });

    it('keeps it binary: temperature in kdnet field 149, teacher frozen, blobs kept', async () => {
      const out = path.join(dir, 'converted.caffemodel');
      const r = await run('distill', 'convert', file, '--out', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${file}: binary net "fork_kd"`);
      expect(r.stdout).toContain('change: "kd": KnowledgeDistillation, temperature 6, runs natively in kdnet: kept');
      expect(r.stdout).toContain('froze the teacher: param { lr_mult: 0 decay_mult: 0 } on "ip_t"');
      const net = caffeType('NetParameter').decode(fs.readFileSync(out)) as unknown as Message;
      const byName = (n: string) => (net.layer as Message[]).find((l) => l.name === n)!;
      expect(byName('kd').knowledge_distillation_param.temperature).toBe(6);
      expect(byName('kd').swish_param).toBeNull();
      expect(byName('ip_t').param.map((p: Message) => [p.lr_mult, p.decay_mult])).toEqual([[0, 0]]);
      expect(Array.from(byName('ip_t').blobs[0].data as number[])).toEqual(teacher);
    });

    it('writes text when asked, and needs --out', async () => {
      const out = path.join(dir, 'converted.prototxt');
      expect((await run('distill', 'convert', file, '--out', out)).code).toBe(0);
      expect(fs.readFileSync(out, 'utf8')).toMatch(/knowledge_distillation_param \{\s+temperature: 6\s+\}/);
      const r = await run('distill', 'convert', file);
      expectOneCleanError(r);
      expect(r.stderr).toContain('is a binary .caffemodel: give --out FILE');
    });
  });
});
