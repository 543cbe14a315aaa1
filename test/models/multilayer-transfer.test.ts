// models/multilayer_transfer: every net and solver checks clean, and the README's own `kdnet distill init` command
// (read from the README, paths moved to a temporary copy) composes the linked layers the README's table describes.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { setLogSink } from '../../src/log.js';
import { Net } from '../../src/net/net.js';
import { Phase, filterNet } from '../../src/net/net-state.js';
import { loadNetFile } from '../../src/proto/load.js';
import { writeCaffemodel } from '../../src/proto/weights.js';
import type { Message } from '../../src/proto/schema.js';
import { tempDir, writeDatums } from '../support/data.js';
import { projectRoot } from '../support/shared.js';

const model = path.join(projectRoot, 'models', 'multilayer_transfer');
const dir = tempDir('kdnet-mlt-');
const readme = fs.readFileSync(path.join(model, 'README.md'), 'utf8');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

/** The README's shell command starting with `node bin/kdnet.js <sub>`, continuation lines joined, as argv. */
function readmeCommand(sub: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.replace(/\\\n\s*/g, ' ');
  const line = block.split('\n').find((l) => l.startsWith(`node bin/kdnet.js ${sub}`))!;
  return line.trim().split(/\s+/).slice(2);
}

beforeAll(async () => {
  await initBackend('cpu', true);
  setLogSink(() => {});
});

describe('models/multilayer_transfer', () => {
  it('every net and solver checks clean', async () => {
    for (const f of fs.readdirSync(model).filter((n) => n.endsWith('.prototxt') && !n.startsWith('distill'))) {
      const r = await run('check', path.join(model, f));
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
    }
  });

  it("the README's distill init composes hard 0.05 + soft 0.6 + three hints with the adapters its table lists", async () => {
    // The model's nets over a small CIFAR-shaped LMDB of our own; a teacher .caffemodel from its fillers.
    const lmdb = path.join(dir, 'lmdb');
    await writeDatums(lmdb, 'lmdb', Array.from({ length: 4 }, (_, i) => ({ channels: 3, height: 32, width: 32, data: new Uint8Array(3072).fill(i * 40), label: i })));
    for (const n of ['teacher', 'student']) {
      const text = fs.readFileSync(path.join(model, `${n}.prototxt`), 'utf8').replace(/source: "[^"]*"/g, `source: "${lmdb}"`);
      fs.writeFileSync(path.join(dir, `${n}.prototxt`), text);
    }
    const teacher = new Net(filterNet(loadNetFile(path.join(dir, 'teacher.prototxt')).message, { phase: Phase.TEST, level: 0, stage: [] }), { phase: Phase.TEST });
    writeCaffemodel(teacher, path.join(dir, 'teacher.caffemodel'));
    teacher.dispose();

    const argv = readmeCommand('distill init').map((a) =>
      a.startsWith('models/multilayer_transfer/') ? path.join(dir, path.basename(a)) : a.endsWith('.caffemodel') ? path.join(dir, 'teacher.caffemodel') : a.startsWith('runs/') ? path.join(dir, 'distill') : a,
    );
    expect(argv.slice(0, 2)).toEqual(['distill', 'init']);
    const r = await run(...argv);
    expect(r.code, r.stderr).toBe(0);
    const layers = loadNetFile(path.join(dir, 'distill', 'train_val.prototxt')).message.layer as Message[];
    const byName = (n: string) => layers.find((l) => l.name === n)!;
    expect(byName('loss').loss_weight).toEqual([Math.fround(0.05)]);
    expect(byName('soft_loss')).toMatchObject({ type: 'KnowledgeDistillation', loss_weight: [Math.fround(0.6)] });
    // β · 2 / (C·H·W) of the teacher blob, as the README's table says.
    const hints = layers.filter((l) => l.type === 'EuclideanLoss').map((l) => [l.bottom, l.loss_weight[0]]);
    expect(hints).toEqual([
      [['hint_adapter_s_pool1', 'pool1'], expect.closeTo((0.1 * 2) / (16 * 16 * 16), 9)],
      [['hint_adapter_conv2', 'pool2'], expect.closeTo((0.1 * 2) / (32 * 8 * 8), 9)],
      [['hint_adapter_s_pool3', 'pool3'], expect.closeTo((0.15 * 2) / (64 * 4 * 4), 9)],
    ]);
    expect(byName('hint_adapter_s_pool1').convolution_param.num_output).toBe(16);
    expect(byName('hint_pool_conv2').pooling_param).toMatchObject({ pool: 1, kernel_size: 2, stride: 2 });
    expect(byName('hint_adapter_conv2').convolution_param.num_output).toBe(32);
    expect(byName('hint_adapter_s_pool3').convolution_param.num_output).toBe(64);
    // distill_solver.prototxt reads the net where the README's command writes it.
    const init = readmeCommand('distill init');
    expect(fs.readFileSync(path.join(model, 'distill_solver.prototxt'), 'utf8')).toContain(`net: "${init[init.indexOf('--out') + 1]}/train_val.prototxt"`);
  });
});
