// kdnet draw: DOT as Caffe's draw_net.py lays it out, roles of a distillation net, SVG rendering, the CLI.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNetFile } from '../../src/proto/load.js';
import { netToDot, ROLE_FILL } from '../../src/net/draw.js';
import { renderSvg } from '../../src/net/render-svg.js';
import { Phase } from '../../src/net/net-state.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { projectRoot } from '../support/shared.js';

const LENET = path.join(projectRoot, 'models', 'lenet', 'lenet_train_test.prototxt');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-draw-'));

const KD_NET = `name: "kd"
layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 1 dim: 8 dim: 8 } shape { dim: 2 } } }
layer { name: "t_conv" type: "Convolution" bottom: "data" top: "t_conv" param { lr_mult: 0 } param { lr_mult: 0 }
  convolution_param { num_output: 4 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "t_relu" type: "ReLU" bottom: "t_conv" top: "t_conv" }
layer { name: "t_ip" type: "InnerProduct" bottom: "t_conv" top: "t_logits" param { lr_mult: 0 } param { lr_mult: 0 } inner_product_param { num_output: 3 } }
layer { name: "s_conv" type: "Convolution" bottom: "data" top: "s_conv" convolution_param { num_output: 2 kernel_size: 3 } }
layer { name: "hint_adapter_1" type: "Convolution" bottom: "s_conv" top: "hint" convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "hint_loss" type: "EuclideanLoss" bottom: "hint" bottom: "t_conv" top: "hint_loss" }
layer { name: "s_ip" type: "InnerProduct" bottom: "s_conv" top: "s_logits" inner_product_param { num_output: 3 } }
layer { name: "kd" type: "KnowledgeDistillation" bottom: "s_logits" bottom: "t_logits" top: "kd_loss" knowledge_distillation_param { temperature: 4 } }
layer { name: "hard" type: "SoftmaxWithLoss" bottom: "s_logits" bottom: "label" top: "hard_loss" }
`;

function nodeIds(dot: string): string[] {
  return [...dot.matchAll(/^ {2}("[^"]*"|\w+) \[label=/gm)].map((m) => m[1]!);
}
function edges(dot: string): string[] {
  return [...dot.matchAll(/^ {2}(\S+) -> (\S+?)[;\s]/gm)].map((m) => `${m[1]} -> ${m[2]}`);
}

describe('netToDot', () => {
  const lenet = loadNetFile(LENET).message;

  it('draws LeNet with one node per layer and per blob, in-place ReLU on its own blob, bottom → layer → top', () => {
    const g = netToDot(lenet, { phase: Phase.TRAIN });
    const names = g.layers.map((l) => l.name);
    expect(names).toEqual(['data', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'loss']);
    expect(g.blobs.sort()).toEqual(['conv1', 'conv2', 'data', 'ip1', 'ip2', 'label', 'loss', 'pool1', 'pool2']);
    const ids = nodeIds(g.dot);
    expect(ids).toHaveLength(names.length + g.blobs.length);
    expect(new Set(ids).size).toBe(ids.length);
    const relu = g.layers.find((l) => l.name === 'relu1')!.id;
    const conv1 = g.layers.find((l) => l.name === 'conv1')!.id;
    const e = edges(g.dot);
    expect(e).toContain(`"blob:data" -> ${conv1}`);
    expect(e).toContain(`${conv1} -> "blob:conv1"`);
    expect(e).toContain(`"blob:ip1" -> ${relu}`);
    expect(e).toContain(`${relu} -> "blob:ip1"`);
    expect(e).toHaveLength(2 + 7 * 2 + 3); // data: 2 tops; 7 one-in one-out layers; loss: 2 bottoms, 1 top
    expect(g.dot).toMatch(/label="conv1\\n\(Convolution\)\\nkernel size: 5\\nstride: 1\\npad: 0"/);
    expect(g.dot).toMatch(/label="pool1\\n\(Pooling\)\\npool type: MAX\\nkernel size: 2\\nstride: 2\\npad: 0"/);
    expect(g.dot).toContain(`${conv1} -> "blob:conv1" [label="20"]`);
    expect(g.dot).toMatch(/-> "blob:data" \[label="Batch 64"\]/);
    expect(g.dot).toMatch(/"blob:ip1" \[label="ip1" shape=octagon/);
  });

  it('filters by phase: TEST has the accuracy layer, TRAIN not; no phase draws every layer', () => {
    const test = netToDot(lenet, { phase: Phase.TEST });
    const train = netToDot(lenet, { phase: Phase.TRAIN });
    const all = netToDot(lenet);
    expect(test.layers.map((l) => l.name)).toContain('accuracy');
    expect(train.layers.map((l) => l.name)).not.toContain('accuracy');
    expect(test.dot).toMatch(/-> "blob:data" \[label="Batch 100"\]/);
    expect(all.layers).toHaveLength(11); // both mnist data layers and accuracy
  });

  it('honours rankdir (LR by default; TB/BT put the label on one line, as draw.py does)', () => {
    expect(netToDot(lenet).dot).toMatch(/^ {2}rankdir=LR;$/m);
    const tb = netToDot(lenet, { rankdir: 'TB', phase: Phase.TRAIN }).dot;
    expect(tb).toMatch(/^ {2}rankdir=TB;$/m);
    expect(tb).toContain('label="conv1 (Convolution) kernel size: 5 stride: 1 pad: 0"');
    expect(netToDot(lenet, { rankdir: 'RL' }).dot).toMatch(/^ {2}rankdir=RL;$/m);
  });

  it('tells teacher, student, losses and hint adapters apart, with a legend', () => {
    const file = path.join(dir, 'kd.prototxt');
    fs.writeFileSync(file, KD_NET);
    const g = netToDot(loadNetFile(file).message, { file });
    const role = Object.fromEntries(g.layers.map((l) => [l.name, l.role]));
    expect(role).toEqual({
      data: 'other',
      t_conv: 'teacher',
      t_relu: 'teacher',
      t_ip: 'teacher',
      s_conv: 'student',
      hint_adapter_1: 'hint',
      hint_loss: 'loss',
      s_ip: 'student',
      kd: 'loss',
      hard: 'loss',
    });
    const t = g.layers.find((l) => l.name === 't_ip')!.id;
    const s = g.layers.find((l) => l.name === 's_ip')!.id;
    const k = g.layers.find((l) => l.name === 'kd')!.id;
    expect(g.dot).toMatch(new RegExp(`${t} \\[.*fillcolor="${ROLE_FILL.teacher}" class="layer teacher"`));
    expect(g.dot).toMatch(new RegExp(`${s} \\[.*fillcolor="${ROLE_FILL.student}" class="layer student"`));
    expect(g.dot).toMatch(new RegExp(`${k} \\[.*fillcolor="${ROLE_FILL.loss}" class="layer loss"`));
    expect(new Set(Object.values(ROLE_FILL)).size).toBe(4);
    for (const r of ['teacher', 'student', 'loss', 'hint']) expect(g.dot).toMatch(new RegExp(`legend_${r} \\[`));
    // A plain net has no teacher, so no student either: only its loss is a role.
    const plain = netToDot(lenet, { phase: Phase.TRAIN });
    expect(plain.layers.filter((l) => l.role !== 'other').map((l) => l.name)).toEqual(['loss']);
    expect(plain.dot).not.toContain('legend_student');
  });
});

describe('renderSvg', () => {
  it('renders SVG that holds every layer name', async () => {
    const g = netToDot(loadNetFile(LENET).message, { phase: Phase.TEST });
    const svg = await renderSvg(g.dot);
    expect(svg.trimStart()).toMatch(/^(<\?xml|<svg)/);
    expect(svg).toMatch(/<\/svg>\s*$/);
    for (const l of g.layers) expect(svg).toContain(`>${l.name}</text>`);
  });
  it('keeps names with quotes, backslashes and record characters intact', async () => {
    const file = path.join(dir, 'odd.prototxt');
    fs.writeFileSync(file, `layer { name: "in|{x}" type: "Input" top: "a\\\\\\"b" input_param { shape { dim: 1 } } }
layer { name: "r<1>" type: "ReLU" bottom: "a\\\\\\"b" top: "a\\\\\\"b" }\n`);
    const g = netToDot(loadNetFile(file).message, { file });
    expect(g.blobs).toEqual(['a\\"b']);
    const svg = await renderSvg(g.dot);
    expect(svg).toContain('>in|{x}</text>');
    expect(svg).toContain('>r&lt;1&gt;</text>');
    expect(svg).toContain('>a\\&quot;b</text>');
  });
});

describe('kdnet draw', () => {
  async function run(...argv: string[]) {
    const io = bufferIO();
    const code = await runCli(argv, io);
    return { code, stdout: io.stdout, stderr: io.stderr };
  }

  it('writes the SVG, or with --format dot the DOT', async () => {
    const out = path.join(dir, 'lenet.svg');
    const r = await run('draw', LENET, '--out', out, '--phase', 'TEST', '--rankdir', 'TB');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${out}`);
    const svg = fs.readFileSync(out, 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('accuracy');
    const dotOut = path.join(dir, 'lenet.dot');
    expect((await run('draw', LENET, '--out', dotOut, '--format', 'dot', '--phase', 'train')).code).toBe(0);
    const dot = fs.readFileSync(dotOut, 'utf8');
    expect(dot).toMatch(/^digraph "LeNet" \{/);
    expect(dot).not.toContain('accuracy');
  });

  it('--help lists the flags', async () => {
    const r = await run('draw', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--rankdir/);
    expect(r.stdout).toMatch(/--phase/);
  });

  it('a missing file, a bad --rankdir, --phase or --format is one error, exit 1', async () => {
    const out = path.join(dir, 'never.svg');
    for (const argv of [
      ['draw', path.join(dir, 'missing.prototxt'), '--out', out],
      ['draw', LENET, '--out', out, '--rankdir', 'XY'],
      ['draw', LENET, '--out', out, '--phase', 'VAL'],
      ['draw', LENET, '--out', out, '--format', 'png'],
    ]) {
      const r = await run(...argv);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
