// Net::Init semantics on small nets: in-place layers, blobs used twice, loss weights, need-backward,
// force_backward, propagate_down, parameter sharing, unknown types, weights IO, and no tensor leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseCaffeText } from '../../src/proto/text.js';
import { Net } from '../../src/net/net.js';
import { Phase } from '../../src/net/net-state.js';
import { initBackend } from '../../src/backend/select.js';
import { KdnetError } from '../../src/errors.js';
import { copyTrainedLayers, readCaffemodel, writeCaffemodel, netToWeightsMessage } from '../../src/proto/weights.js';
import { newMessage } from '../../src/proto/schema.js';
import { setLogSink } from '../../src/log.js';

function build(text: string, phase = Phase.TRAIN, seed = 5): Net {
  return new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase, seed });
}

const values = (t: tf.Tensor | undefined) => (t ? Array.from(t.dataSync()) : undefined);
const close = (a: number[] | undefined, b: number[], tol = 1e-5) => {
  expect(a).toBeDefined();
  expect(a!.length).toBe(b.length);
  a!.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!))));
};

const input = (name: string, dims: number[]) => `layer { name: "in_${name}" type: "Input" top: "${name}" input_param { shape { ${dims.map((d) => `dim: ${d}`).join(' ')} } } }`;

beforeAll(async () => {
  await initBackend('cpu', true);
});

describe('Net', () => {
  it('runs an in-place layer and routes its diff to the original blob', () => {
    const net = build(`force_backward: true
${input('x', [2, 3])}
${input('t', [2, 3])}
layer { name: "relu" type: "ReLU" bottom: "x" top: "x" }
layer { name: "loss" type: "EuclideanLoss" bottom: "x" bottom: "t" top: "loss" }`);
    net.setInput('x', tf.tensor([[-1, 2, -3], [4, -5, 6]]));
    net.setInput('t', tf.zeros([2, 3]));
    const loss = net.forward();
    // relu(x) = [0,2,0,4,0,6]; Euclidean = Σ d² / (2N) = (4+16+36)/4
    expect(loss).toBeCloseTo(14, 5);
    net.backward();
    // d/dx: (relu(x) - t)/N where x > 0, else 0
    close(values(net.blobDiff('x')), [0, 1, 0, 2, 0, 3]);
    net.dispose();
  });

  it('backpropagates into a blob read by a zero-weight loss and a real one (Caffe splits the blob)', () => {
    // Distillation with hard-loss weight 0: the soft loss alone must still train the student.
    const net = build(`${input('x', [2, 3])}
${input('t', [2, 2])}
${input('label', [2])}
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "constant" value: 0.5 } } }
layer { name: "hard" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "hard" loss_weight: 0 }
layer { name: "soft" type: "EuclideanLoss" bottom: "ip" bottom: "t" top: "soft" }`);
    net.setInput('x', tf.tensor([[1, 2, 3], [0, 1, 0]]));
    net.setInput('t', tf.zeros([2, 2]));
    net.setInput('label', tf.tensor([0, 1]));
    net.forward();
    net.backward();
    // ip = x·W + 0.5-weights: rows [3, 3] and [0.5, 0.5]; d soft/d ip = ip / N; dW = Σ_n d_ip[n]ᵀ x[n].
    close(values(net.blobDiff('ip')), [1.5, 1.5, 0.25, 0.25]);
    close(values(net.paramDiff('ip', 0)), [1.5, 3.25, 4.5, 1.5, 3.25, 4.5]);
    net.dispose();
  });

  it('sums the gradients of a blob consumed twice (Caffe\'s split)', () => {
    const net = build(`force_backward: true
${input('x', [1, 4])}
${input('t', [1, 4])}
layer { name: "a" type: "EuclideanLoss" bottom: "x" bottom: "t" top: "la" }
layer { name: "b" type: "EuclideanLoss" bottom: "x" bottom: "t" top: "lb" loss_weight: 3 }`);
    net.setInput('x', tf.tensor([[1, 2, 3, 4]]));
    net.setInput('t', tf.zeros([1, 4]));
    expect(net.forward()).toBeCloseTo(15 + 3 * 15, 4);
    net.backward();
    close(values(net.blobDiff('x')), [4, 8, 12, 16]);
    net.dispose();
  });

  it('skips backward where nothing needs it; force_backward and propagate_down change that', () => {
    const text = (extra: string) => `${extra}
${input('x', [2, 2])}
${input('t', [2, 2])}
layer { name: "relu" type: "ReLU" bottom: "x" top: "y" }
layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }`;
    for (const [extra, expectX] of [
      ['', false],
      ['force_backward: true', true],
    ] as const) {
      const net = build(text(extra));
      net.setInput('x', tf.tensor([[1, -1], [2, 3]]));
      net.setInput('t', tf.zeros([2, 2]));
      net.forward();
      net.backward();
      expect(net.blobDiff('x') !== undefined, extra).toBe(expectX);
      net.dispose();
    }
    // propagate_down: false stops the gradient into a learnable layer's output (without force_backward,
    // which Caffe lets override it).
    for (const [pd, expectParamDiff] of [
      ['', true],
      ['propagate_down: false propagate_down: false', false],
    ] as const) {
      const net = build(`${input('x', [2, 2])}
${input('t', [2, 3])}
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" ${pd} }`);
      net.setInput('x', tf.tensor([[1, -1], [2, 3]]));
      net.setInput('t', tf.zeros([2, 3]));
      net.forward();
      net.backward();
      expect(net.paramDiff('ip', 0) !== undefined, pd).toBe(expectParamDiff);
      net.dispose();
    }
  });

  it('shares parameters by name: one tensor, gradients summed', () => {
    const net = build(`${input('x', [2, 3])}
${input('t', [2, 2])}
layer { name: "ip_a" type: "InnerProduct" bottom: "x" top: "a" param { name: "w" } param { name: "b" } inner_product_param { num_output: 2 weight_filler { type: "gaussian" } } }
layer { name: "ip_b" type: "InnerProduct" bottom: "x" top: "b" param { name: "w" } param { name: "b" } inner_product_param { num_output: 2 weight_filler { type: "gaussian" } } }
layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "s" }
layer { name: "loss" type: "EuclideanLoss" bottom: "s" bottom: "t" top: "loss" }`);
    expect(net.layer('ip_a').blobs[0]).toBe(net.layer('ip_b').blobs[0]);
    expect(net.learnableParams).toHaveLength(2);
    net.setInput('x', tf.tensor([[1, 2, 3], [0, 1, 0]]));
    net.setInput('t', tf.zeros([2, 2]));
    net.forward();
    net.backward();
    // s = 2(Wx + b): dL/dW = 2 · (s/N)ᵀ x, summed over the two uses
    const W = tf.tensor(net.layer('ip_a').blobs[0]!.dataSync(), [2, 3]);
    const x = tf.tensor([[1, 2, 3], [0, 1, 0]]);
    const s = net.blob('s');
    const expected = tf.mul(tf.matMul(tf.div(s, 2), x, true, false), 2);
    close(values(net.paramDiff('ip_a', 0)), Array.from(expected.dataSync()), 1e-4);
    expect(values(net.paramDiff('ip_b', 0))).toEqual(values(net.paramDiff('ip_a', 0)));
    tf.dispose([W, x, expected]);
    net.dispose();
  });

  it('rejects a shared parameter of another shape, naming both layers', () => {
    expect(() =>
      build(`${input('x', [2, 3])}
layer { name: "p" type: "InnerProduct" bottom: "x" top: "a" param { name: "w" } inner_product_param { num_output: 2 } }
layer { name: "q" type: "InnerProduct" bottom: "x" top: "b" param { name: "w" } inner_product_param { num_output: 3 } }`),
    ).toThrow(/shared parameter 'w' has shape \[3, 3\] here but \[2, 3\] in layer "p"/);
  });

  it('lists every layer it cannot run in one error', () => {
    expect(() =>
      build(`${input('x', [1, 3])}
layer { name: "a" type: "PriorBox" bottom: "x" top: "y" }
layer { name: "b" type: "Python" bottom: "y" top: "z" }
layer { name: "c" type: "Python" bottom: "y" top: "w" python_param { module: "no_such_module" layer: "L" } }`),
    ).toThrow(
      expect.objectContaining({
        message: 'kdnet cannot run 3 layers: "a" (PriorBox, not in Caffe master), "b" (Python, no JavaScript port), "c" (Python, no JavaScript port)',
        others: [
          expect.objectContaining({ message: expect.stringContaining('a Python layer needs python_param { module: "..." layer: "..." }') }),
          expect.objectContaining({ message: expect.stringContaining("no JavaScript port of Python module 'no_such_module' (class L)") }),
        ],
      }),
    );
  });

  it('names an unknown bottom blob with its position', () => {
    try {
      build(`${input('x', [1, 3])}\nlayer { name: "r" type: "ReLU" bottom: "nope" top: "y" }`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KdnetError);
      expect((e as KdnetError).oneLine).toBe(`net.prototxt:2:32: layer "r": unknown bottom blob 'nope' (bottom index 0): no earlier layer produces it`);
    }
  });

  it('keeps the tensor count flat over 200 LeNet forward/backward passes', async () => {
    await initBackend('wasm', true); // LeNet's convolutions are ~10x faster there than on cpu
    const net = build(`${input('data', [8, 1, 28, 28])}
${input('label', [8])}
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 6 kernel_size: 5 weight_filler { type: "xavier" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 8 kernel_size: 5 weight_filler { type: "xavier" } } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" inner_product_param { num_output: 32 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }`);
    net.setInput('data', tf.randomNormal([8, 1, 28, 28]));
    net.setInput('label', tf.tensor([0, 1, 2, 3, 4, 5, 6, 7]));
    const pass = () => {
      net.forward();
      net.clearParamDiffs();
      net.backward();
    };
    pass();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 199; i++) pass();
    expect(tf.memory().numTensors).toBe(after1);
    net.dispose();
    await initBackend('cpu', true);
  });
});

describe('.caffemodel weights', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-weights-'));
  const text = `${input('x', [2, 3])}
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "gaussian" } bias_filler { type: "uniform" } } }
layer { name: "ip2" type: "InnerProduct" bottom: "y" top: "z" inner_product_param { num_output: 2 weight_filler { type: "gaussian" } } }`;

  it('writes and reads back the same blobs, by layer name', () => {
    const a = build(text, Phase.TEST, 1);
    const file = path.join(dir, 'a.caffemodel');
    writeCaffemodel(a, file);
    const b = build(text, Phase.TEST, 2);
    expect(values(b.layer('ip').blobs[0])).not.toEqual(values(a.layer('ip').blobs[0]));
    copyTrainedLayers(b, readCaffemodel(file));
    for (const l of ['ip', 'ip2']) for (const i of [0, 1]) expect(values(b.layer(l).blobs[i])).toEqual(values(a.layer(l).blobs[i]));
    a.dispose();
    b.dispose();
  });

  it('reads V1 blobs with num/channels/height/width and double_data', () => {
    const net = build(text, Phase.TEST);
    const msg = newMessage('NetParameter');
    const blob = (n: number, c: number, h: number, w: number, vals: number[]) =>
      newMessage('BlobProto', { num: n, channels: c, height: h, width: w, double_data: vals });
    msg.layers = [
      newMessage('V1LayerParameter', {
        name: 'ip',
        blobs: [blob(1, 1, 4, 3, [...Array(12).keys()]), blob(1, 1, 1, 4, [1, 2, 3, 4])],
      }),
    ];
    const logs: string[] = [];
    const restore = setLogSink((_, m) => logs.push(m));
    copyTrainedLayers(net, msg, 'old.caffemodel');
    setLogSink(restore);
    expect(values(net.layer('ip').blobs[0])).toEqual([...Array(12).keys()]);
    expect(values(net.layer('ip').blobs[1])).toEqual([1, 2, 3, 4]);
    expect(logs).toEqual(['Layers not in old.caffemodel keep their fillers: ip2']);
    net.dispose();
  });

  it('names layer, blob and both shapes on a mismatch', () => {
    const net = build(text, Phase.TEST);
    const other = build(text.replace('num_output: 4', 'num_output: 5').replace('bottom: "y" top: "z"', 'bottom: "y" top: "z"'), Phase.TEST);
    const msg = netToWeightsMessage(other);
    expect(() => copyTrainedLayers(net, msg, 'w.caffemodel')).toThrow(
      'w.caffemodel: blob 0 of layer "ip" has shape [5, 3] in the file but [4, 3] in the net',
    );
    net.dispose();
    other.dispose();
  });
});

describe('weights in text form and reshaping', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-weights-text-'));
  const text = `${input('x', [2, 3])}
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "gaussian" } bias_filler { type: "uniform" } } }`;

  it('writes and reads the text form, and converts between forms with the CLI', async () => {
    const a = build(text, Phase.TEST, 1);
    const txt = path.join(dir, 'w.prototxt');
    writeCaffemodel(a, txt);
    expect(fs.readFileSync(txt, 'utf8')).toMatch(/^layer \{\n  name: "in_x"[\s\S]*blobs \{\n    data: /m);
    const bin = path.join(dir, 'w.caffemodel');
    const { runCli } = await import('../../src/cli/main.js');
    const { bufferIO } = await import('../../src/cli/io.js');
    expect(await runCli(['convert-weights', txt, bin], bufferIO())).toBe(0);
    for (const f of [txt, bin]) {
      const b = build(text, Phase.TEST, 2);
      copyTrainedLayers(b, readCaffemodel(f));
      expect(values(b.layer('ip').blobs[0])).toEqual(values(a.layer('ip').blobs[0]));
      b.dispose();
    }
    a.dispose();
  });

  it('reshapes when an input changes size (Caffe\'s Reshape)', () => {
    const net = build(text, Phase.TEST);
    net.setInput('x', tf.ones([2, 3]));
    net.forward();
    expect(net.blob('y').shape).toEqual([2, 4]);
    net.setInput('x', tf.ones([5, 3]));
    net.forward();
    expect(net.blob('y').shape).toEqual([5, 4]);
    expect(net.blobShape('y')).toEqual([5, 4]);
    net.dispose();
  });
});
