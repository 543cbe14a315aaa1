// The whole pipeline: Caffe's order, the applied ids, one info line per applied step, and the no-op case.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { caffeType, has } from '../../../src/proto/schema.js';
import { KdnetError } from '../../../src/errors.js';
import { netNeedsUpgrade, upgradeNetParameter, upgradeSolverParameter } from '../../../src/proto/upgrade/index.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { corpusEntries, hasCorpus } from '../../support/shared.js';
import { captureLog, net, obj, solver } from './helpers.js';

const log = captureLog();

function v0Layer(body: string, bottom: string, top: string): string {
  return `layers { layer { ${body} } bottom: '${bottom}' top: '${top}' }`;
}
const FILLERS = `weight_filler { type: 'xavier' } bias_filler { type: 'constant' }`;

// A V0 LeNet deploy net with a padding layer and net-level inputs: every net step but data-transformation.
const LENET_V0 = `
name: 'LeNet'
input: 'data'
input_dim: 64 input_dim: 1 input_dim: 28 input_dim: 28
${v0Layer(`name: 'pad1' type: 'padding' pad: 2`, 'data', 'pad1')}
${v0Layer(`name: 'conv1' type: 'conv' num_output: 20 kernelsize: 5 stride: 1 ${FILLERS} blobs_lr: 1 blobs_lr: 2`, 'pad1', 'conv1')}
${v0Layer(`name: 'pool1' type: 'pool' pool: MAX kernelsize: 2 stride: 2`, 'conv1', 'pool1')}
${v0Layer(`name: 'conv2' type: 'conv' num_output: 50 kernelsize: 5 stride: 1 ${FILLERS} blobs_lr: 1 blobs_lr: 2`, 'pool1', 'conv2')}
${v0Layer(`name: 'pool2' type: 'pool' pool: MAX kernelsize: 2 stride: 2`, 'conv2', 'pool2')}
${v0Layer(`name: 'ip1' type: 'innerproduct' num_output: 500 ${FILLERS} blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0`, 'pool2', 'ip1')}
${v0Layer(`name: 'relu1' type: 'relu'`, 'ip1', 'ip1')}
${v0Layer(`name: 'ip2' type: 'innerproduct' num_output: 10 ${FILLERS} blobs_lr: 1 blobs_lr: 2`, 'ip1', 'ip2')}
${v0Layer(`name: 'prob' type: 'softmax'`, 'ip2', 'prob')}
`;

const LENET_V2 = `
name: 'LeNet'
layer { name: 'input' type: 'Input' top: 'data' input_param { shape { dim: 64 dim: 1 dim: 28 dim: 28 } } }
layer {
  name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1'
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 20 pad: 2 kernel_size: 5 stride: 1 ${FILLERS} }
}
layer { name: 'pool1' type: 'Pooling' bottom: 'conv1' top: 'pool1' pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer {
  name: 'conv2' type: 'Convolution' bottom: 'pool1' top: 'conv2'
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 50 kernel_size: 5 stride: 1 ${FILLERS} }
}
layer { name: 'pool2' type: 'Pooling' bottom: 'conv2' top: 'pool2' pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer {
  name: 'ip1' type: 'InnerProduct' bottom: 'pool2' top: 'ip1'
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  inner_product_param { num_output: 500 ${FILLERS} }
}
layer { name: 'relu1' type: 'ReLU' bottom: 'ip1' top: 'ip1' }
layer {
  name: 'ip2' type: 'InnerProduct' bottom: 'ip1' top: 'ip2'
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 ${FILLERS} }
}
layer { name: 'prob' type: 'Softmax' bottom: 'ip2' top: 'prob' }
`;

describe('upgradeNetParameter', () => {
  it('upgrades a V0 LeNet all the way to the expected V2 net', () => {
    const result = upgradeNetParameter(net(LENET_V0, 'lenet_v0.prototxt'), 'lenet_v0.prototxt');
    expect(result.applied).toEqual(['v0-padding', 'v0-to-v1', 'v1-to-v2', 'input-fields']);
    expect(obj(result.net)).toEqual(obj(net(LENET_V2)));
    expect(caffeType('NetParameter').encode(result.net).finish().length).toBeGreaterThan(0);
    expect(log.info()).toEqual([
      'Folded V0 padding layers into the pad of the conv/pool layers reading them in lenet_v0.prototxt: 1 padding layer',
      'Upgraded V0 layers to V1 layer format in lenet_v0.prototxt: 8 layers',
      'Upgraded V1 layers to V2 layer format in lenet_v0.prototxt: 8 layers',
      'Upgraded net input fields to an Input layer in lenet_v0.prototxt: 1 input',
    ]);
    expect(log.warn()).toEqual([]);
  });

  it("upgrades Caffe's TestSimple V0 net to its V2 form (V0 data fields go straight to transform_param)", () => {
    const v0 = `
      name: 'CaffeNet'
      ${v0Layer(`name: 'data' type: 'data' source: '/data/train-leveldb' meanfile: '/data/mean.binaryproto' batchsize: 256 cropsize: 227 mirror: true`, 'x', 'data').replace(
        "bottom: 'x' top: 'data'",
        "top: 'data' top: 'label'",
      )}
      ${v0Layer(`name: 'pad1' type: 'padding' pad: 2`, 'data', 'pad1')}
      ${v0Layer(`name: 'conv1' type: 'conv' num_output: 96 kernelsize: 11 stride: 4 weight_filler { type: 'gaussian' std: 0.01 } bias_filler { type: 'constant' value: 0. } blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.`, 'pad1', 'conv1')}
      layers { layer { name: 'loss' type: 'softmax_loss' } bottom: 'conv1' bottom: 'label' }`;
    const expected = `
      name: 'CaffeNet'
      layer {
        name: 'data' type: 'Data' top: 'data' top: 'label'
        data_param { source: '/data/train-leveldb' batch_size: 256 }
        transform_param { crop_size: 227 mirror: true mean_file: '/data/mean.binaryproto' }
      }
      layer {
        name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1'
        convolution_param {
          num_output: 96 kernel_size: 11 stride: 4 pad: 2
          weight_filler { type: 'gaussian' std: 0.01 } bias_filler { type: 'constant' value: 0. }
        }
        param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
      }
      layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'conv1' bottom: 'label' }`;
    const result = upgradeNetParameter(net(v0));
    expect(result.applied).toEqual(['v0-padding', 'v0-to-v1', 'v1-to-v2']);
    expect(obj(result.net)).toEqual(obj(net(expected)));
    // without a source the log lines just leave the file out
    expect(log.info()[1]).toBe('Upgraded V0 layers to V1 layer format: 3 layers');
  });

  it('moves V1 data-layer transformation fields before converting V1 to V2', () => {
    const result = upgradeNetParameter(
      net(`
        name: 'LeNet'
        layers {
          name: 'mnist' type: DATA top: 'data' top: 'label'
          data_param { source: 'mnist_train_lmdb' backend: LMDB batch_size: 64 scale: 0.00390625 }
          include { phase: TRAIN }
        }
        layers { name: 'ip' type: INNER_PRODUCT bottom: 'data' top: 'ip' blobs_lr: 1 blobs_lr: 2 inner_product_param { num_output: 10 } }
        layers { name: 'loss' type: SOFTMAX_LOSS bottom: 'ip' bottom: 'label' top: 'loss' }`),
      'lenet_train_test.prototxt',
    );
    expect(result.applied).toEqual(['data-transformation', 'v1-to-v2']);
    expect(obj(result.net)).toEqual(
      obj(
        net(`
        name: 'LeNet'
        layer {
          name: 'mnist' type: 'Data' top: 'data' top: 'label'
          data_param { source: 'mnist_train_lmdb' backend: LMDB batch_size: 64 }
          transform_param { scale: 0.00390625 }
          include { phase: TRAIN }
        }
        layer { name: 'ip' type: 'InnerProduct' bottom: 'data' top: 'ip' param { lr_mult: 1 } param { lr_mult: 2 } inner_product_param { num_output: 10 } }
        layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip' bottom: 'label' top: 'loss' }`),
      ),
    );
    expect(log.info()).toEqual([
      "Moved V1 data layers' scale/mean_file/crop_size/mirror into transform_param in lenet_train_test.prototxt: 1 layer",
      'Upgraded V1 layers to V2 layer format in lenet_train_test.prototxt: 3 layers',
    ]);
  });

  it('upgrades input_shape and old BatchNorm params of a current-format net', () => {
    const result = upgradeNetParameter(
      net(`
        input: 'data' input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
        layer { name: 'bn' type: 'BatchNorm' bottom: 'data' top: 'bn' param { lr_mult: 0 } param { lr_mult: 0 } param { lr_mult: 0 } }`),
      'deploy.prototxt',
    );
    expect(result.applied).toEqual(['input-fields', 'batchnorm']);
    expect(obj(result.net)).toEqual(
      obj(
        net(`
        layer { name: 'input' type: 'Input' top: 'data' input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
        layer { name: 'bn' type: 'BatchNorm' bottom: 'data' top: 'bn'
          param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 } }`),
      ),
    );
    expect(log.info()).toEqual([
      'Upgraded net input fields to an Input layer in deploy.prototxt: 1 input',
      'Upgraded BatchNorm param entries (lr_mult and decay_mult set to 0) in deploy.prototxt: 1 layer',
    ]);
  });

  it('maps a V1 pooling ceil_mode (fork field) after V1 → V2', () => {
    const parsed = parseCaffeText(
      `layers { name: 'p' type: POOLING bottom: 'x' top: 'y' pooling_param { pool: MAX kernel_size: 3 stride: 2 ceil_mode: false } }`,
      'NetParameter',
      'fork.prototxt',
    );
    const result = upgradeNetParameter(parsed.message, 'fork.prototxt');
    expect(result.applied).toEqual(['v1-to-v2', 'fork-fields']);
    expect(result.net.layer[0].pooling_param.round_mode).toBe(1);
    expect(log.info()[1]).toBe('Upgraded fork field ceil_mode to round_mode in fork.prototxt: 1 layer');
  });

  it('leaves a current net unchanged, applies nothing and logs nothing', () => {
    const text = `
      name: 'n'
      layer { name: 'data' type: 'Input' top: 'data' input_param { shape { dim: 1 dim: 3 } } }
      layer { name: 'bn' type: 'BatchNorm' bottom: 'data' top: 'bn' }
      layer { name: 'ip' type: 'InnerProduct' bottom: 'bn' top: 'ip' param { lr_mult: 1 } inner_product_param { num_output: 2 } }`;
    const input = net(text);
    expect(netNeedsUpgrade(input)).toBe(false);
    const result = upgradeNetParameter(input, 'n.prototxt');
    expect(result.applied).toEqual([]);
    expect(result.net).toBe(input);
    expect(obj(result.net)).toEqual(obj(net(text)));
    expect(log.lines).toEqual([]);
  });

  it('does not count BatchNorm layers already frozen with lr_mult 0 and decay_mult 0', () => {
    const zero = 'param { lr_mult: 0 decay_mult: 0 }';
    const result = upgradeNetParameter(net(`layer { name: 'bn' type: 'BatchNorm' bottom: 'x' top: 'x' ${zero} ${zero} ${zero} }`));
    expect(result.applied).toEqual([]);
    expect(log.lines).toEqual([]);
  });

  it('refuses a net with both V1 layers and V2 layer before changing anything', () => {
    const input = net(`layers { layer { name: 'old' type: 'relu' } } layer { name: 'new' type: 'ReLU' }`);
    const before = obj(input);
    expect(() => upgradeNetParameter(input, 'mixed.prototxt')).toThrow(KdnetError);
    expect(obj(input)).toEqual(before);
    expect(log.info()).toEqual([]);
  });

  it('surfaces Caffe-fatal problems as KdnetErrors', () => {
    expect(() => upgradeNetParameter(net(`layers { layer { name: 'x' type: 'power' } }`))).toThrow(KdnetError);
    expect(() => upgradeNetParameter(net(`input: 'a' input_dim: 1 input_dim: 2`))).toThrow(/input_dim takes 4 values/);
  });
});

describe('upgradeSolverParameter', () => {
  it('upgrades solver_type ADAM to type "Adam" with one log line', () => {
    const result = upgradeSolverParameter(
      solver(`net: 'lenet_train_test.prototxt' base_lr: 0.001 momentum: 0.9 momentum2: 0.999 solver_type: ADAM`),
      'lenet_solver_adam.prototxt',
    );
    expect(result.applied).toEqual(['solver-type']);
    expect(result.solver.type).toBe('Adam');
    expect(has(result.solver, 'solver_type')).toBe(false);
    expect(log.info()).toEqual(['Upgraded solver_type ADAM to type "Adam" in lenet_solver_adam.prototxt: 1 field']);
  });

  it('leaves a current solver alone', () => {
    const s = solver(`type: "Nesterov" base_lr: 0.1`);
    const result = upgradeSolverParameter(s);
    expect(result).toEqual({ solver: s, applied: [] });
    expect(log.lines).toEqual([]);
  });

  it('refuses solver_type and type together', () => {
    expect(() => upgradeSolverParameter(solver(`solver_type: SGD type: "SGD"`))).toThrow(KdnetError);
  });
});

describe.skipIf(!hasCorpus)('legacy files of the real corpus', () => {
  const byFormat = (re: RegExp) => corpusEntries().filter((e) => re.test(e.format) && e.format.startsWith('NetParameter'));

  for (const entry of byFormat(/V0|V1/)) {
    it(`${entry.localPath} upgrades to a V2 net with the same layers`, () => {
      const parsed = parseCaffeText(fs.readFileSync(entry.file, 'utf8'), 'NetParameter', entry.file).message;
      const v0 = /V0/.test(entry.format);
      const names = (parsed.layers as any[])
        .filter((l) => !v0 || l.layer.type !== 'padding')
        .map((l) => (v0 ? l.layer.name : l.name));
      const { net: upgraded, applied } = upgradeNetParameter(parsed, entry.file);
      expect(applied).toContain(v0 ? 'v0-to-v1' : 'v1-to-v2');
      expect(upgraded.layers).toEqual([]);
      expect((upgraded.layer as any[]).map((l) => l.name)).toEqual(names);
      for (const l of upgraded.layer as any[]) expect(l.type).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(log.info().length).toBe(applied.length);
      expect(caffeType('NetParameter').encode(upgraded).finish().length).toBeGreaterThan(0);
    });
  }
});
