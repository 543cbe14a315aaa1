// Python layers run through JavaScript ports: module lookup, pycaffe's calling convention, data layers that
// make new data and new shapes every forward, loss weights, parameter blobs, and every error a user can make.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/select.js';
import { Phase } from '../../../src/net/net-state.js';
import { copyTrainedLayers, readCaffemodel, writeCaffemodel } from '../../../src/proto/weights.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Solver } from '../../../src/solvers/solver.js';
import { loadSolverJsLayers } from '../../../src/solvers/solver-nets.js';
import { setLogSink } from '../../../src/log.js';
import { buildNet, errorOf, tempDir, writeFiles } from './helpers.js';

const values = (t: tf.Tensor | undefined) => Array.from(t!.dataSync());

const pyLayer = (name: string, module: string, cls: string, extra = '') =>
  `layer { name: "${name}" type: "Python" ${extra} python_param { module: "${module}" layer: "${cls}" } }`;

// A data layer whose batch size cycles through `sizes` and whose values change every forward.
const COUNTER = `
export class CounterData {
  setup(bottom, top) {
    this.config = JSON.parse(this.param_str);
    this.phaseAtSetup = this.phase;
    this.calls = 0;
    globalThis.__counterInstances = (globalThis.__counterInstances ?? 0) + 1;
  }
  reshape(bottom, top) {
    top[0].reshape(this.config.sizes[this.calls % this.config.sizes.length], 2);
  }
  forward(bottom, top) {
    this.calls++;
    top[0].data.fill(this.calls * 10 + this.phaseAtSetup);
  }
  backward() {}
}
`;

// y = w·x with w a learnable blob added in setup (initial value from param_str).
const SCALE = `
export default {
  ScaleByParam: class {
    setup(bottom, top) {
      const w = this.blobs.add_blob(1);
      w.data[0] = Number(this.param_str);
    }
    reshape(bottom, top) { top[0].reshape(...bottom[0].shape); }
    forward(bottom, top) {
      const w = this.blobs[0].data[0];
      bottom[0].data.forEach((v, i) => (top[0].data[i] = w * v));
    }
    backward(top, propagateDown, bottom) {
      const w = this.blobs[0].data[0];
      let g = 0;
      top[0].diff.forEach((d, i) => {
        g += d * bottom[0].data[i];
        if (propagateDown[0]) bottom[0].diff[i] = w * d;
      });
      this.blobs[0].diff[0] = g;
    }
  },
};
`;

// Σ x, remembering the top diff it was given (CommonJS, required without a preload).
const SUM_LOSS = `
class SumLoss {
  setup() {}
  reshape(bottom, top) { top[0].reshape(1); }
  forward(bottom, top) { top[0].data[0] = bottom[0].data.reduce((a, b) => a + b, 0); }
  backward(top, propagateDown, bottom) {
    globalThis.__sumLossSeen = { topDiff: top[0].diff[0], propagateDown: [...propagateDown] };
    bottom[0].diff.fill(top[0].diff[0]);
  }
}
module.exports = { SumLoss };
`;

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('Python layers ported to JavaScript', () => {
  it('runs a data layer that makes new values and new top shapes every forward (no caching), downstream layers follow', async () => {
    const dir = tempDir('data');
    writeFiles(dir, { 'counter.mjs': COUNTER, 'scale.mjs': SCALE });
    const net = await buildNet(
      dir,
      `name: "n"
layer { name: "data" type: "Python" top: "x" python_param { module: "counter" layer: "CounterData" param_str: '{"sizes": [3, 5]}' } }
layer { name: "double" type: "Power" bottom: "x" top: "y" power_param { scale: 2 } }
layer { name: "triple" type: "Python" bottom: "y" top: "z" python_param { module: "scale" layer: "ScaleByParam" param_str: "3" } }`,
      { phase: Phase.TEST },
    );
    expect(net.blobShape('y')).toEqual([3, 2]);
    net.forward();
    expect(net.blob('x').shape).toEqual([3, 2]);
    expect(values(net.blob('y'))).toEqual(new Array(6).fill(2 * 11));
    net.forward();
    expect(net.blob('y').shape).toEqual([5, 2]);
    expect(values(net.blob('y'))).toEqual(new Array(10).fill(2 * 21));
    expect(values(net.blob('z'))).toEqual(new Array(10).fill(6 * 21));
    net.forward();
    expect(values(net.blob('x'))).toEqual(new Array(6).fill(31));
    net.dispose();
  });

  it('never calls backward on a data port (no bottoms, no parameters), even with force_backward; frees its tensors', async () => {
    const dir = tempDir('databackward');
    writeFiles(dir, { 'counter.mjs': COUNTER.replace('  backward() {}\n', ''), 'scale.mjs': SCALE });
    const before = tf.memory().numTensors;
    const net = await buildNet(
      dir,
      `force_backward: true
layer { name: "data" type: "Python" top: "x" python_param { module: "counter" layer: "CounterData" param_str: '{"sizes": [2]}' } }
layer { name: "scale" type: "Python" bottom: "x" top: "y" python_param { module: "scale" layer: "ScaleByParam" param_str: "2" } }
layer { name: "loss" type: "Power" bottom: "y" top: "loss" loss_weight: 1 }`,
    );
    for (let i = 0; i < 3; i++) {
      net.forward();
      net.backward();
    }
    // Parameter diffs accumulate over backward passes until cleared (Caffe's semantics): Σ x of the 2×2 batches of 10s, 20s, 30s.
    expect(values(net.paramDiff('scale', 0))).toEqual([4 * (10 + 20 + 30)]);
    net.clearParamDiffs();
    net.forward();
    net.backward();
    expect(values(net.paramDiff('scale', 0))).toEqual([4 * 40]);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sets param_str and phase (pycaffe ints: 0 TRAIN, 1 TEST) before setup, one instance per net', async () => {
    const dir = tempDir('phase');
    writeFiles(dir, { 'counter.mjs': COUNTER });
    const text = `layer { name: "data" type: "Python" top: "x" python_param { module: "counter" layer: "CounterData" param_str: '{"sizes": [1]}' } }`;
    const before = (globalThis as { __counterInstances?: number }).__counterInstances ?? 0;
    const train = await buildNet(dir, text, { phase: Phase.TRAIN });
    const test = await buildNet(dir, text, { phase: Phase.TEST });
    expect((globalThis as { __counterInstances?: number }).__counterInstances).toBe(before + 2);
    train.forward();
    test.forward();
    expect(values(train.blob('x'))).toEqual([10, 10]);
    expect(values(test.blob('x'))).toEqual([11, 11]);
    train.dispose();
    test.dispose();
  });

  it('seeds a ported layer\'s top diff with its loss_weight and passes propagate_down; CommonJS needs no preload', async () => {
    const dir = tempDir('loss');
    writeFiles(dir, { 'sum_loss.cjs': SUM_LOSS });
    const net = await buildNet(
      dir,
      `force_backward: true
layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 2 } } }
${pyLayer('loss', 'sum_loss', 'SumLoss', 'bottom: "x" top: "loss" loss_weight: 2.5')}`,
      { preload: false },
    );
    net.setInput('x', tf.tensor([1, 2, 3, 4], [2, 2]));
    expect(net.forward()).toBeCloseTo(25, 5);
    expect(net.lossTops()).toEqual([{ layer: 'loss', blob: 'loss', weight: 2.5 }]);
    net.backward();
    expect(values(net.blobDiff('x'))).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect((globalThis as { __sumLossSeen?: unknown }).__sumLossSeen).toEqual({ topDiff: 2.5, propagateDown: [true] });
    net.dispose();
  });

  it('is no loss without loss_weight, as in Caffe', async () => {
    const dir = tempDir('noloss');
    writeFiles(dir, { 'sum_loss.cjs': SUM_LOSS });
    const net = await buildNet(dir, `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 } } }
${pyLayer('sum', 'sum_loss', 'SumLoss', 'bottom: "x" top: "s"')}`);
    net.setInput('x', tf.tensor([1, 2]));
    expect(net.forward()).toBe(0);
    expect(values(net.blob('s'))).toEqual([3]);
    expect(net.lossTops()).toEqual([]);
    net.dispose();
  });

  it('turns blobs added with this.blobs.add_blob into learnable parameters with diffs (default-export object)', async () => {
    const dir = tempDir('param');
    writeFiles(dir, { 'scale.mjs': SCALE });
    const net = await buildNet(
      dir,
      `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "t" type: "Input" top: "target" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "scale" type: "Python" bottom: "x" top: "y" python_param { module: "scale" layer: "ScaleByParam" param_str: "3" } }
layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "target" top: "loss" }`,
    );
    expect(net.learnableParams.map((p) => [p.layer, p.index, p.tensor.shape])).toEqual([['scale', 0, [1]]]);
    const x = [1, 2, 3, 4, 5, 6];
    net.setInput('x', tf.tensor(x, [2, 3]));
    net.setInput('target', tf.zeros([2, 3]));
    const loss = net.forward();
    expect(values(net.blob('y'))).toEqual(x.map((v) => 3 * v));
    expect(loss).toBeCloseTo(x.reduce((s, v) => s + 9 * v * v, 0) / 4, 3);
    net.backward();
    // d loss / d y = y / N, so d loss / d w = Σ x·y / N
    expect(values(net.paramDiff('scale', 0))[0]).toBeCloseTo(x.reduce((s, v) => s + v * 3 * v, 0) / 2, 3);
    // The solver's update reaches the layer: the next forward uses the new value.
    net.learnableParams[0]!.tensor.assign(tf.tensor([0.5]));
    net.forward();
    expect(values(net.blob('y'))).toEqual(x.map((v) => 0.5 * v));
    // .caffemodel files carry it by layer name.
    const file = path.join(dir, 'scale.caffemodel');
    writeCaffemodel(net, file);
    const fresh = await buildNet(dir, fs.readFileSync(path.join(dir, 'net.prototxt'), 'utf8'));
    expect(copyTrainedLayers(fresh, readCaffemodel(file))).toEqual([]); // no layer left with its initial values
    fresh.setInput('x', tf.tensor(x, [2, 3]));
    fresh.setInput('target', tf.zeros([2, 3]));
    fresh.forward();
    expect(values(fresh.blob('y'))).toEqual(x.map((v) => 0.5 * v));
    fresh.dispose();
    net.dispose();
  });

  it('lets the solver train a ported layer\'s parameter blob (ports of an inline solver net preloaded by loadSolverJsLayers)', async () => {
    const dir = tempDir('solver');
    writeFiles(dir, { 'scale.mjs': SCALE });
    const solverText = `base_lr: 0.1
lr_policy: "fixed"
max_iter: 30
display: 0
snapshot_after_train: false
net_param {
  layer { name: "x" type: "DummyData" top: "x" dummy_data_param { shape { dim: 2 dim: 3 } data_filler { type: "constant" value: 1 } } }
  layer { name: "t" type: "DummyData" top: "target" dummy_data_param { shape { dim: 2 dim: 3 } data_filler { type: "constant" value: 2 } } }
  layer { name: "scale" type: "Python" bottom: "x" top: "y" python_param { module: "scale" layer: "ScaleByParam" param_str: "0.5" } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "target" top: "loss" }
}`;
    const param = parseCaffeText(solverText, 'SolverParameter').message;
    await loadSolverJsLayers(param, { baseDir: dir });
    const silence = setLogSink(() => undefined);
    try {
      const solver = new Solver(param, { baseDir: dir });
      await solver.solve();
      // loss = 3·(w − 2)²/2 per item pair: gradient descent takes w from 0.5 to 2.
      expect(Math.abs(solver.net.learnableParams[0]!.tensor.dataSync()[0]! - 2)).toBeLessThan(1e-3);
      solver.dispose();
    } finally {
      setLogSink(silence);
    }
  });

  it('finds modules on --layers-path first, then KDNET_LAYERS_PATH, then the net\'s folder; dotted names are folders', async () => {
    const root = tempDir('order');
    const constant = (v: number) => `export class Const { setup() {} reshape(b, t) { t[0].reshape(1); } forward(b, t) { t[0].data[0] = ${v}; } }\n`;
    writeFiles(root, { 'a/mod.mjs': constant(1), 'env/mod.mjs': constant(2), 'net/mod.mjs': constant(3), 'net/pkg/inner.cjs': constant(4).replace('export class Const', 'exports.Const = class') });
    const text = `${pyLayer('c', 'mod', 'Const', 'top: "c"')}\n${pyLayer('d', 'pkg.inner', 'Const', 'top: "d"')}`;
    const run = async (layersPath?: string[]) => {
      const net = await buildNet(path.join(root, 'net'), text, { layersPath });
      net.forward();
      const out = [values(net.blob('c'))[0], values(net.blob('d'))[0]];
      net.dispose();
      return out;
    };
    const saved = process.env.KDNET_LAYERS_PATH;
    try {
      process.env.KDNET_LAYERS_PATH = [path.join(root, 'nowhere'), path.join(root, 'env')].join(path.delimiter);
      expect(await run([path.join(root, 'a')])).toEqual([1, 4]);
      expect(await run([`${path.join(root, 'nowhere')}${path.delimiter}${path.join(root, 'a')}`])).toEqual([1, 4]);
      expect(await run()).toEqual([2, 4]);
      delete process.env.KDNET_LAYERS_PATH;
      expect(await run()).toEqual([3, 4]);
    } finally {
      if (saved === undefined) delete process.env.KDNET_LAYERS_PATH;
      else process.env.KDNET_LAYERS_PATH = saved;
    }
  });

  it('accepts .js ES modules and a default-exported class', async () => {
    const dir = tempDir('js');
    writeFiles(dir, {
      'package.json': '{ "type": "module" }',
      'plain.js': 'export default class Ones { setup() {} reshape(b, t) { t[0].reshape(2); } forward(b, t) { t[0].data.fill(1); } }\n',
    });
    const net = await buildNet(dir, pyLayer('ones', 'plain', 'Ones', 'top: "o"'));
    net.forward();
    expect(values(net.blob('o'))).toEqual([1, 1]);
    net.dispose();
  });
});

describe('Python layer errors', () => {
  const NET = (module: string, cls: string) => `name: "bad"
layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer {
  name: "ported"
  type: "Python"
  bottom: "x"
  top: "y"
  python_param { module: "${module}" layer: "${cls}" }
}
`;
  const expectPositioned = (report: string, dir: string, at = '8:3') => {
    expect(report).toContain(`${path.join(dir, 'net.prototxt')}:${at}: layer "ported" (Python).python_param: `);
    expect(report).not.toMatch(/\n\s+at /);
  };

  it('names the module, the class and every folder searched when no port is found', async () => {
    const dir = tempDir('missing');
    const other = tempDir('other');
    const e = await errorOf(() => buildNet(dir, NET('voc_layers', 'SBDDSegDataLayer'), { layersPath: [other] }));
    expectPositioned(e.report(), dir);
    expect(e.message).toBe(
      `no JavaScript port of Python module 'voc_layers' (class SBDDSegDataLayer): looked for voc_layers.js, voc_layers.mjs, voc_layers.cjs in ${other}, ${dir}; ` +
        'give its folder with --layers-path DIR or KDNET_LAYERS_PATH',
    );
    // Every such layer, once each.
    const two = await errorOf(() => buildNet(dir, `${NET('voc_layers', 'A')}${pyLayer('second', 'rpn.proposal_layer', 'ProposalLayer', 'bottom: "y" top: "z"')}\n`));
    const lines = two.report().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`layer "second" (Python).python_param: no JavaScript port of Python module 'rpn.proposal_layer' (class ProposalLayer): looked for rpn/proposal_layer.js, rpn/proposal_layer.mjs, rpn/proposal_layer.cjs in ${dir};`);
  });

  it('lists what a module exports when the class is not among them', async () => {
    const dir = tempDir('noexport');
    writeFiles(dir, { 'mod.mjs': 'export class A {}\nexport const b = 1;\nexport default { C: 1 };\n' });
    const e = await errorOf(() => buildNet(dir, NET('mod', 'Layer')));
    expectPositioned(e.report(), dir);
    expect(e.message).toBe(`module 'mod' (${path.join(dir, 'mod.mjs')}) exports no class 'Layer'; it exports A, b, default.C`);
  });

  it('rejects an export that is not a class, and a class without setup/reshape/forward', async () => {
    const dir = tempDir('notclass');
    writeFiles(dir, { 'mod.mjs': 'export const Layer = 5;\nexport class Half { setup() {} }\n' });
    expect((await errorOf(() => buildNet(dir, NET('mod', 'Layer')))).message).toContain("export 'Layer' is a number, not a class");
    const e = await errorOf(() => buildNet(dir, NET('mod', 'Half')));
    expectPositioned(e.report(), dir);
    expect(e.message).toContain(`class Half in module 'mod' (${path.join(dir, 'mod.mjs')}) has no reshape, forward methods`);
  });

  it('reports an exception thrown in the user\'s code with the class, method, message and the user\'s line', async () => {
    const dir = tempDir('throw');
    writeFiles(dir, {
      'boom.mjs': [
        'export class Boom {',
        '  setup() {}',
        '  reshape(b, t) { t[0].reshape(...b[0].shape); }',
        '  forward(b, t) {',
        "    throw new RangeError('label 7 is out of range');",
        '  }',
        '}',
        '',
      ].join('\n'),
    });
    const net = await buildNet(dir, NET('boom', 'Boom'));
    const e = await errorOf(() => net.forward());
    expectPositioned(e.report(), dir);
    expect(e.message).toMatch(/^Boom\.forward threw: RangeError: label 7 is out of range \(at .*boom\.mjs:5:11\)$/);
    net.dispose();
  });

  it('reports an exception in setup, and bad module names', async () => {
    const dir = tempDir('setup');
    writeFiles(dir, { 'mod.mjs': "export class L { setup() { throw new Error('Need two tops'); } reshape() {} forward() {} }\n" });
    expect((await errorOf(() => buildNet(dir, NET('mod', 'L')))).message).toMatch(/^L\.setup threw: Need two tops \(at .*mod\.mjs:1:\d+\)$/);
    expect((await errorOf(() => buildNet(dir, NET('mod.py', 'L')))).message).toBe("python_param.module 'mod.py' names a module with its file extension: write 'mod'");
    expect((await errorOf(() => buildNet(dir, NET('../mod', 'L')))).message).toContain("'../mod' is not a Python module name");
    expect((await errorOf(() => buildNet(dir, `layer { name: "p" type: "Python" top: "y" }`))).message).toContain('needs python_param { module: "..." layer: "..." }');
  });

  it('catches tops left without a shape, values of the wrong count, promises, and blobs added after setup', async () => {
    const dir = tempDir('tops');
    writeFiles(dir, {
      'mod.mjs': `
export class NoShape { setup() {} reshape(b, t) { t[0].reshape(2); } forward() {} }
export class WrongCount { setup() {} reshape(b, t) { t[0].reshape(...b[0].shape); } forward(b, t) { t[0].data = [1, 2]; } }
export class Later { setup() {} reshape(b, t) { t[0].reshape(1); } forward(b, t) { this.blobs.add_blob(1); } }
export class Async { setup() {} reshape(b, t) { t[0].reshape(1); } async forward(b, t) {} }
export class Grow { setup(b, t) { t.push(t[0]); } reshape() {} forward() {} }
`,
    });
    const twoTops = `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "ported" type: "Python" bottom: "x" top: "y" top: "z" python_param { module: "mod" layer: "NoShape" } }`;
    expect((await errorOf(() => buildNet(dir, twoTops))).message).toBe(
      "NoShape.reshape left top[1] 'z' without a shape: give every top its shape with top[i].reshape(...dims) in setup or reshape",
    );
    for (const [cls, message] of [
      ['WrongCount', /^WrongCount\.forward threw: top\[0\] 'y'\.data: 2 values given for shape \[2, 3\] \(6 values\) \(at .*mod\.mjs:3:\d+\)$/],
      ['Later', /^Later\.forward changed this\.blobs from 0 to 1 blobs: add parameter blobs in setup only$/],
      ['Async', /^Async\.forward returned a Promise: kdnet calls layer methods synchronously/],
    ] as const) {
      const net = await buildNet(dir, NET('mod', cls));
      const e = await errorOf(() => net.forward());
      expectPositioned(e.report(), dir);
      expect(e.message).toMatch(message);
      net.dispose();
    }
    expect((await errorOf(() => buildNet(dir, NET('mod', 'Grow')))).message).toMatch(/^Grow\.setup threw: TypeError: Cannot add property 1, object is not extensible/);
  });

  it('asks for backward only when the net needs a gradient through the layer', async () => {
    const dir = tempDir('nobackward');
    writeFiles(dir, { 'mod.mjs': 'export class Fwd { setup() {} reshape(b, t) { t[0].reshape(1); } forward(b, t) { t[0].data[0] = b[0].data[0]; } }\n' });
    const net = await buildNet(dir, `force_backward: true\n${NET('mod', 'Fwd').replace('python_param', 'loss_weight: 1 python_param')}`);
    net.forward();
    const e = await errorOf(() => net.backward());
    expectPositioned(e.report(), dir, '9:18');
    expect(e.message).toBe('class Fwd has no backward(top, propagate_down, bottom) method, but the net needs gradients through this layer');
    net.dispose();
  });

  it('explains an ES module that was not preloaded and a module that fails to load', async () => {
    const dir = tempDir('preload');
    writeFiles(dir, { 'late.mjs': 'export class L { setup() {} reshape() {} forward() {} }\n', 'broken.mjs': 'export class L {\n' });
    const e = await errorOf(() => buildNet(dir, NET('late', 'L'), { preload: false }));
    expect(e.message).toContain("module 'late' (" + path.join(dir, 'late.mjs') + ') is an ES module that was not loaded yet: call loadJsLayers(net, { layersPath, baseDir }) before building the net');
    const broken = await errorOf(() => buildNet(dir, NET('broken', 'L')));
    expectPositioned(broken.report(), dir);
    // Node says SyntaxError; under vitest its transformer reports the parse failure in its own words.
    expect(broken.message.startsWith(`module 'broken' (${path.join(dir, 'broken.mjs')}) failed to load: `)).toBe(true);
  });
});
