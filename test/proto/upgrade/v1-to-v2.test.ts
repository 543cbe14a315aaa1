// V1 → V2 (`layers` → `layer`) and the V1 data-layer transformation upgrade.
import { describe, expect, it } from 'vitest';
import { caffeEnum, caffeType, has } from '../../../src/proto/schema.js';
import { KdnetError } from '../../../src/errors.js';
import { positionOf } from '../../../src/prototxt/side-tables.js';
import {
  V1_PARAM_FIELDS,
  assertSingleLayerFormat,
  netNeedsDataUpgrade,
  netNeedsV1ToV2Upgrade,
  upgradeNetDataTransformation,
  upgradeV1LayerParameter,
  upgradeV1LayerType,
  upgradeV1Net,
} from '../../../src/proto/upgrade/v1-to-v2.js';
import { captureLog, net, obj } from './helpers.js';

const log = captureLog();

describe('upgradeV1LayerType', () => {
  const expected: Record<string, string> = {
    NONE: '', ABSVAL: 'AbsVal', ACCURACY: 'Accuracy', ARGMAX: 'ArgMax', BNLL: 'BNLL', CONCAT: 'Concat',
    CONTRASTIVE_LOSS: 'ContrastiveLoss', CONVOLUTION: 'Convolution', DECONVOLUTION: 'Deconvolution', DATA: 'Data',
    DROPOUT: 'Dropout', DUMMY_DATA: 'DummyData', EUCLIDEAN_LOSS: 'EuclideanLoss', ELTWISE: 'Eltwise', EXP: 'Exp',
    FLATTEN: 'Flatten', HDF5_DATA: 'HDF5Data', HDF5_OUTPUT: 'HDF5Output', HINGE_LOSS: 'HingeLoss', IM2COL: 'Im2col',
    IMAGE_DATA: 'ImageData', INFOGAIN_LOSS: 'InfogainLoss', INNER_PRODUCT: 'InnerProduct', LRN: 'LRN',
    MEMORY_DATA: 'MemoryData', MULTINOMIAL_LOGISTIC_LOSS: 'MultinomialLogisticLoss', MVN: 'MVN', POOLING: 'Pooling',
    POWER: 'Power', RELU: 'ReLU', SIGMOID: 'Sigmoid', SIGMOID_CROSS_ENTROPY_LOSS: 'SigmoidCrossEntropyLoss',
    SILENCE: 'Silence', SOFTMAX: 'Softmax', SOFTMAX_LOSS: 'SoftmaxWithLoss', SPLIT: 'Split', SLICE: 'Slice',
    TANH: 'TanH', WINDOW_DATA: 'WindowData', THRESHOLD: 'Threshold',
  };

  it("maps every V1 enum value as Caffe's UpgradeV1LayerType does", () => {
    const values = caffeEnum('V1LayerParameter.LayerType').values;
    expect(Object.keys(values).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, v2] of Object.entries(expected)) expect(upgradeV1LayerType(values[name]!)).toBe(v2);
  });

  it('refuses an unknown enum number', () => {
    expect(() => upgradeV1LayerType(999)).toThrow(KdnetError);
    expect(() => upgradeV1LayerType(999)).toThrow('unknown V1 layer type 999');
  });
});

describe('upgradeV1LayerParameter', () => {
  it('copies every *_param field V1LayerParameter has', () => {
    const v1Params = Object.keys(caffeType('V1LayerParameter').fields).filter((f) => f.endsWith('_param'));
    expect([...V1_PARAM_FIELDS].sort()).toEqual(v1Params.sort());
    const v2Fields = caffeType('LayerParameter').fields;
    for (const f of V1_PARAM_FIELDS) expect(v2Fields[f], f).toBeDefined();
  });

  it('turns blobs_lr / weight_decay into param { lr_mult decay_mult }', () => {
    const input = net(`
      layers {
        name: 'conv1' type: CONVOLUTION bottom: 'data' top: 'conv1'
        blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
        convolution_param { num_output: 20 kernel_size: 5 }
      }`);
    const layer = upgradeV1LayerParameter((input.layers as any[])[0]);
    expect(obj(layer, 'LayerParameter')).toEqual(
      obj(
        net(`
      layer {
        name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1'
        param { lr_mult: 1 decay_mult: 1 }
        param { lr_mult: 2 decay_mult: 0 }
        convolution_param { num_output: 20 kernel_size: 5 }
      }`).layer[0],
        'LayerParameter',
      ),
    );
  });

  it('fills param entries up to the longest of param / blob_share_mode / blobs_lr / weight_decay', () => {
    const input = net(`
      layers {
        name: 'ip' type: INNER_PRODUCT
        param: 'w' param: 'b'
        blob_share_mode: PERMISSIVE
        blobs_lr: 1
        weight_decay: 1 weight_decay: 0 weight_decay: 0.5
      }`);
    const layer = upgradeV1LayerParameter((input.layers as any[])[0]);
    expect(obj(layer, 'LayerParameter').param).toEqual([
      { name: 'w', share_mode: caffeEnum('ParamSpec.DimCheckMode').values.PERMISSIVE, lr_mult: 1, decay_mult: 1 },
      { name: 'b', decay_mult: 0 },
      { decay_mult: 0.5 },
    ]);
  });

  it('keeps include / exclude, loss_weight, blobs, transform_param, loss_param and every parameter message', () => {
    const input = net(`
      layers {
        name: 'l' type: SOFTMAX_LOSS bottom: 'a' bottom: 'b' top: 'loss'
        include { phase: TRAIN stage: 's' }
        exclude { min_level: 2 }
        loss_weight: 0.5
        blobs { shape { dim: 1 } data: 3 }
        loss_param { ignore_label: 255 normalize: false }
        softmax_param { axis: 2 }
        transform_param { scale: 0.5 }
        accuracy_param { top_k: 5 }
        threshold_param { threshold: 0.1 }
      }`);
    const layer = upgradeV1LayerParameter((input.layers as any[])[0]);
    const expected = net(`
      layer {
        name: 'l' type: 'SoftmaxWithLoss' bottom: 'a' bottom: 'b' top: 'loss'
        include { phase: TRAIN stage: 's' }
        exclude { min_level: 2 }
        loss_weight: 0.5
        blobs { shape { dim: 1 } data: 3 }
        loss_param { ignore_label: 255 normalize: false }
        softmax_param { axis: 2 }
        transform_param { scale: 0.5 }
        accuracy_param { top_k: 5 }
        threshold_param { threshold: 0.1 }
      }`);
    expect(obj(layer, 'LayerParameter')).toEqual(obj(expected.layer[0], 'LayerParameter'));
  });

  it('leaves type unset when V1 had none, and gives NONE the empty type', () => {
    const input = net(`layers { name: 'a' } layers { name: 'b' type: NONE }`);
    const [a, b] = (input.layers as any[]).map((l, i) => upgradeV1LayerParameter(l, i));
    expect(has(a, 'type')).toBe(false);
    expect(has(b, 'type')).toBe(true);
    expect(b.type).toBe('');
  });

  it('keeps source positions for later error messages', () => {
    const input = net('name: "n"\nlayers {\n  name: "c"\n  type: CONVOLUTION\n}', 'n.prototxt');
    const layer = upgradeV1LayerParameter((input.layers as any[])[0]);
    expect(positionOf(layer)).toEqual({ file: 'n.prototxt', line: 2, column: 8 });
  });
});

// Caffe NetUpgradeTest.TestSimple, V1 half.
const SIMPLE_V1 = `
name: 'CaffeNet'
layers {
  name: 'data' type: DATA
  data_param { source: '/home/jiayq/Data/ILSVRC12/train-leveldb' batch_size: 256 }
  transform_param { crop_size: 227 mirror: true mean_file: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto' }
  top: 'data' top: 'label'
}
layers {
  name: 'conv1' type: CONVOLUTION
  convolution_param {
    num_output: 96 kernel_size: 11 stride: 4 pad: 2
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 0. }
  }
  blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.
  bottom: 'data' top: 'conv1'
}
layers {
  name: 'fc8' type: INNER_PRODUCT
  inner_product_param {
    num_output: 1000
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 0 }
  }
  blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.
  bottom: 'conv1' top: 'fc8'
}
layers { name: 'loss' type: SOFTMAX_LOSS bottom: 'fc8' bottom: 'label' }
`;

const SIMPLE_V2 = `
name: 'CaffeNet'
layer {
  name: 'data' type: 'Data'
  data_param { source: '/home/jiayq/Data/ILSVRC12/train-leveldb' batch_size: 256 }
  transform_param { crop_size: 227 mirror: true mean_file: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto' }
  top: 'data' top: 'label'
}
layer {
  name: 'conv1' type: 'Convolution'
  convolution_param {
    num_output: 96 kernel_size: 11 stride: 4 pad: 2
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 0. }
  }
  param { lr_mult: 1 decay_mult: 1 }
  param { lr_mult: 2 decay_mult: 0 }
  bottom: 'data' top: 'conv1'
}
layer {
  name: 'fc8' type: 'InnerProduct'
  inner_product_param {
    num_output: 1000
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 0 }
  }
  param { lr_mult: 1 decay_mult: 1 }
  param { lr_mult: 2 decay_mult: 0 }
  bottom: 'conv1' top: 'fc8'
}
layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'fc8' bottom: 'label' }
`;

describe('upgradeV1Net (Caffe NetUpgradeTest)', () => {
  it('needs an upgrade exactly when layers is non-empty', () => {
    expect(netNeedsV1ToV2Upgrade(net(SIMPLE_V1))).toBe(true);
    expect(netNeedsV1ToV2Upgrade(net(SIMPLE_V2))).toBe(false);
  });

  it('upgrades TestSimple V1 to the expected V2 net', () => {
    const input = net(SIMPLE_V1);
    expect(upgradeV1Net(input)).toBe(4);
    expect(obj(input)).toEqual(obj(net(SIMPLE_V2)));
    expect(input.layers).toEqual([]);
    expect(caffeType('NetParameter').encode(input).finish().length).toBeGreaterThan(0);
  });

  it('keeps the other net-level fields', () => {
    const input = net(`name: 'n' input: 'x' input_dim: 1 input_dim: 1 input_dim: 2 input_dim: 2 force_backward: true
      state { phase: TRAIN } layers { name: 'r' type: RELU bottom: 'x' top: 'x' }`);
    upgradeV1Net(input);
    expect(obj(input)).toEqual(
      obj(
        net(`name: 'n' input: 'x' input_dim: 1 input_dim: 1 input_dim: 2 input_dim: 2 force_backward: true
      state { phase: TRAIN } layer { name: 'r' type: 'ReLU' bottom: 'x' top: 'x' }`),
      ),
    );
  });

  it('refuses a net giving both layers and layer', () => {
    const input = net(`layers { name: 'a' type: RELU } layer { name: 'b' type: 'ReLU' }`, 'mixed.prototxt');
    expect(() => upgradeV1Net(input)).toThrow(KdnetError);
    try {
      assertSingleLayerFormat(input);
      expect.unreachable();
    } catch (e) {
      expect((e as KdnetError).message).toBe(
        "the net gives both legacy 'layers' (1) and current 'layer' (1) entries; write every layer in one format " +
          "(the legacy 'layers' would replace the 'layer' entries when upgraded)",
      );
      expect((e as KdnetError).where.position).toEqual({ file: 'mixed.prototxt', line: 1, column: 1 });
    }
  });

  it('warns about a V0 layer {} left inside a V1 layer', () => {
    const input = net(`layers { name: 'a' type: RELU layer { name: 'old' } }`);
    upgradeV1Net(input);
    expect(log.warn()).toEqual([`layers[0] "a": a V0 'layer {}' inside a V1 layer is ignored`]);
  });
});

describe('data transformation upgrade (NetNeedsDataUpgrade / UpgradeNetDataTransformation)', () => {
  it('moves scale / mean_file / crop_size / mirror of DATA, IMAGE_DATA and WINDOW_DATA into transform_param', () => {
    const input = net(`
      layers {
        name: 'd' type: DATA top: 'data'
        data_param { source: 'db' batch_size: 64 scale: 0.00390625 mean_file: 'mean.binaryproto' crop_size: 28 mirror: true }
      }
      layers {
        name: 'i' type: IMAGE_DATA top: 'img'
        image_data_param { source: 'list.txt' scale: 0.5 }
        transform_param { mirror: true }
      }
      layers {
        name: 'w' type: WINDOW_DATA top: 'win'
        window_data_param { source: 'windows.txt' crop_size: 227 mean_file: 'm' }
        transform_param { crop_size: 10 }
      }`);
    expect(netNeedsDataUpgrade(input)).toBe(true);
    expect(upgradeNetDataTransformation(input)).toBe(3);
    expect(netNeedsDataUpgrade(input)).toBe(false);
    const expected = net(`
      layers {
        name: 'd' type: DATA top: 'data'
        data_param { source: 'db' batch_size: 64 }
        transform_param { scale: 0.00390625 mean_file: 'mean.binaryproto' crop_size: 28 mirror: true }
      }
      layers {
        name: 'i' type: IMAGE_DATA top: 'img'
        image_data_param { source: 'list.txt' }
        transform_param { mirror: true scale: 0.5 }
      }
      layers {
        name: 'w' type: WINDOW_DATA top: 'win'
        window_data_param { source: 'windows.txt' }
        transform_param { crop_size: 227 mean_file: 'm' }
      }`);
    expect(obj(input)).toEqual(obj(expected));
  });

  it('does not look at other layer types or at fields left at their defaults', () => {
    expect(netNeedsDataUpgrade(net(`layers { name: 'd' type: DATA data_param { source: 'db' } }`))).toBe(false);
    expect(netNeedsDataUpgrade(net(`layers { name: 'h' type: HDF5_DATA hdf5_data_param { source: 's' } }`))).toBe(false);
    expect(netNeedsDataUpgrade(net(`layers { name: 'd' type: DATA transform_param { scale: 2 } }`))).toBe(false);
  });

  it('like Caffe, gives every data layer both messages once the upgrade runs', () => {
    const input = net(`
      layers { name: 'a' type: DATA data_param { scale: 2 } }
      layers { name: 'b' type: DATA }`);
    expect(upgradeNetDataTransformation(input)).toBe(1);
    const b = (input.layers as any[])[1];
    expect(has(b, 'data_param')).toBe(true);
    expect(has(b, 'transform_param')).toBe(true);
  });
});
