// V0 → V1: padding layers folded into conv/pool, and V0 layer fields sorted into V1 parameter messages.
// The nets are Caffe's own test cases (src/caffe/test/test_upgrade_proto.cpp), written out as prototxt.
import { describe, expect, it } from 'vitest';
import { caffeEnum, caffeType, has } from '../../../src/proto/schema.js';
import { KdnetError } from '../../../src/errors.js';
import {
  V0_HANDLED_FIELDS,
  V0_LAYER_TYPE_NAMES,
  netNeedsV0ToV1Upgrade,
  upgradeV0LayerParameter,
  upgradeV0LayerType,
  upgradeV0Net,
  upgradeV0PaddingLayers,
} from '../../../src/proto/upgrade/v0-to-v1.js';
import { captureLog, net, obj } from './helpers.js';

const log = captureLog();

const DATA_V0 = `
layers {
  layer {
    name: 'data'
    type: 'data'
    source: '/home/jiayq/Data/ILSVRC12/train-leveldb'
    meanfile: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto'
    batchsize: 256
    cropsize: 227
    mirror: true
  }
  top: 'data'
  top: 'label'
}`;

function convV0(name: string, bottom: string, extra = ''): string {
  return `
layers {
  layer {
    name: '${name}'
    type: 'conv'
    num_output: 96
    kernelsize: 11
    stride: 4
    ${extra}
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 0. }
    blobs_lr: 1.
    blobs_lr: 2.
    weight_decay: 1.
    weight_decay: 0.
  }
  bottom: '${bottom}'
  top: '${name}'
}`;
}

const FC8_LOSS_V0 = `
layers {
  layer {
    name: 'fc8'
    type: 'innerproduct'
    num_output: 1000
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 0 }
    blobs_lr: 1.
    blobs_lr: 2.
    weight_decay: 1.
    weight_decay: 0.
  }
  bottom: 'conv1'
  top: 'fc8'
}
layers {
  layer { name: 'loss' type: 'softmax_loss' }
  bottom: 'fc8'
  bottom: 'label'
}`;

const PAD1 = `
layers {
  layer { name: 'pad1' type: 'padding' pad: 2 }
  bottom: 'data'
  top: 'pad1'
}`;

describe('netNeedsV0ToV1Upgrade', () => {
  it('is true when some layers entry holds a V0 layer {}', () => {
    expect(netNeedsV0ToV1Upgrade(net(`name: 'x' ${DATA_V0}`))).toBe(true);
  });
  it('is false for V1 and current nets', () => {
    expect(netNeedsV0ToV1Upgrade(net(`layers { name: 'd' type: DATA top: 'data' }`))).toBe(false);
    expect(netNeedsV0ToV1Upgrade(net(`layer { name: 'd' type: 'Data' top: 'data' }`))).toBe(false);
  });
});

describe('upgradeV0PaddingLayers (Caffe PaddingLayerUpgradeTest)', () => {
  it('folds a padding layer into the conv layer that reads it (TestSimple)', () => {
    const input = net(`name: 'CaffeNet' ${DATA_V0} ${PAD1} ${convV0('conv1', 'pad1')} ${FC8_LOSS_V0}`);
    const expected = net(`name: 'CaffeNet' ${DATA_V0} ${convV0('conv1', 'data', 'pad: 2')} ${FC8_LOSS_V0}`);
    expect(upgradeV0PaddingLayers(input)).toBe(1);
    expect(obj(input)).toEqual(obj(expected));
    // idempotent: a second pass changes nothing
    expect(upgradeV0PaddingLayers(input)).toBe(0);
    expect(obj(input)).toEqual(obj(expected));
  });

  it('folds one padding layer into every conv layer reading it (TestTwoTops)', () => {
    const input = net(
      `name: 'CaffeNet' ${DATA_V0} ${PAD1} ${convV0('conv1', 'pad1')} ${FC8_LOSS_V0} ${convV0('conv2', 'pad1')}`,
    );
    const expected = net(
      `name: 'CaffeNet' ${DATA_V0} ${convV0('conv1', 'data', 'pad: 2')} ${FC8_LOSS_V0} ${convV0('conv2', 'data', 'pad: 2')}`,
    );
    expect(upgradeV0PaddingLayers(input)).toBe(1);
    expect(obj(input)).toEqual(obj(expected));
  });

  it('folds several padding layers, into pool layers too', () => {
    const input = net(`
      input: 'img'
      layers { layer { name: 'p1' type: 'padding' pad: 1 } bottom: 'img' top: 'p1' }
      layers { layer { name: 'pool1' type: 'pool' pool: MAX kernelsize: 3 stride: 2 } bottom: 'p1' top: 'pool1' }
      layers { layer { name: 'relu1' type: 'relu' } bottom: 'pool1' top: 'pool1' }
      layers { layer { name: 'p2' type: 'padding' pad: 2 } bottom: 'pool1' top: 'p2' }
      layers { layer { name: 'conv2' type: 'conv' num_output: 4 kernelsize: 5 } bottom: 'p2' top: 'conv2' }`);
    expect(upgradeV0PaddingLayers(input)).toBe(2);
    const layers = input.layers as any[];
    expect(layers.map((l) => l.layer.name)).toEqual(['pool1', 'relu1', 'conv2']);
    expect(layers[0].bottom).toEqual(['img']);
    expect(layers[0].layer.pad).toBe(1);
    expect(layers[2].bottom).toEqual(['pool1']);
    expect(layers[2].layer.pad).toBe(2);
  });

  it('gives the consumer pad 0 (set) when the padding layer has no pad', () => {
    const input = net(`
      input: 'img'
      layers { layer { name: 'p' type: 'padding' } bottom: 'img' top: 'p' }
      layers { layer { name: 'c' type: 'conv' num_output: 1 kernelsize: 1 } bottom: 'p' top: 'c' }`);
    upgradeV0PaddingLayers(input);
    const conv = (input.layers as any[])[0].layer;
    expect(has(conv, 'pad')).toBe(true);
    expect(conv.pad).toBe(0);
  });

  it('refuses a padding layer read by a layer other than conv or pool', () => {
    const input = net(`name: 'x' ${DATA_V0} ${PAD1}
      layers { layer { name: 'relu' type: 'relu' } bottom: 'pad1' top: 'r' }`);
    expect(() => upgradeV0PaddingLayers(input)).toThrow(KdnetError);
    expect(() => upgradeV0PaddingLayers(net(`name: 'x' ${DATA_V0} ${PAD1}
      layers { layer { name: 'relu' type: 'relu' } bottom: 'pad1' top: 'r' }`))).toThrow(
      /reads the output of V0 padding layer layers\[1\] "pad1", but only "conv" and "pool" layers can absorb a padding layer \(this one is "relu"\)/,
    );
  });

  it('refuses a conv reading a padding layer when it has more than one bottom', () => {
    const input = net(`name: 'x' ${DATA_V0} ${PAD1}
      layers { layer { name: 'c' type: 'conv' } bottom: 'pad1' bottom: 'label' top: 'c' }`);
    let err: unknown;
    try {
      upgradeV0PaddingLayers(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KdnetError);
    expect((err as KdnetError).message).toMatch(/must have exactly 1 bottom, not 2/);
    expect((err as KdnetError).where.layer).toBe('c');
    expect((err as KdnetError).where.path).toBe('layers[2] "c"');
  });

  it('refuses a padding layer with two bottoms or two tops', () => {
    const input = net(`name: 'x' ${DATA_V0}
      layers { layer { name: 'p' type: 'padding' pad: 1 } bottom: 'data' bottom: 'label' top: 'p' }
      layers { layer { name: 'c' type: 'conv' } bottom: 'p' top: 'c' }`);
    expect(() => upgradeV0PaddingLayers(input)).toThrow(/a V0 padding layer must have exactly 1 bottom and 1 top \(found 2 and 1\)/);
  });

  it('refuses a bottom that no earlier layer or net input produces', () => {
    const input = net(`name: 'x' ${DATA_V0} ${convV0('conv1', 'nowhere')}`);
    expect(() => upgradeV0PaddingLayers(input)).toThrow(
      /bottom "nowhere" is neither a net input nor the top of an earlier layer/,
    );
  });
});

describe('upgradeV0LayerType', () => {
  it("maps every V0 type string of Caffe's table", () => {
    const types = caffeEnum('V1LayerParameter.LayerType').values;
    const expected: Record<string, string> = {
      accuracy: 'ACCURACY', bnll: 'BNLL', concat: 'CONCAT', conv: 'CONVOLUTION', data: 'DATA', dropout: 'DROPOUT',
      euclidean_loss: 'EUCLIDEAN_LOSS', flatten: 'FLATTEN', hdf5_data: 'HDF5_DATA', hdf5_output: 'HDF5_OUTPUT',
      im2col: 'IM2COL', images: 'IMAGE_DATA', infogain_loss: 'INFOGAIN_LOSS', innerproduct: 'INNER_PRODUCT',
      lrn: 'LRN', multinomial_logistic_loss: 'MULTINOMIAL_LOGISTIC_LOSS', pool: 'POOLING', relu: 'RELU',
      sigmoid: 'SIGMOID', softmax: 'SOFTMAX', softmax_loss: 'SOFTMAX_LOSS', split: 'SPLIT', tanh: 'TANH',
      window_data: 'WINDOW_DATA',
    };
    expect([...V0_LAYER_TYPE_NAMES].sort()).toEqual(Object.keys(expected).sort());
    for (const [v0, v1] of Object.entries(expected)) expect(upgradeV0LayerType(v0)).toBe(types[v1]);
  });

  it('refuses other types with a suggestion', () => {
    expect(() => upgradeV0LayerType('padding')).toThrow(KdnetError);
    expect(() => upgradeV0LayerType('power')).toThrow(/V0 layer type "power" cannot be upgraded/);
    expect(() => upgradeV0LayerType('innerprodcut')).toThrow(/did you mean "innerproduct"\?/);
    expect(() => upgradeV0LayerType('toString')).toThrow(KdnetError);
  });

  it('names the layer when a net has an unknown V0 type', () => {
    const input = net(`layers { layer { name: 'p' type: 'power' } }`);
    try {
      upgradeV0Net(input);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KdnetError);
      expect((e as KdnetError).where.layer).toBe('p');
      expect((e as KdnetError).where.path).toBe('layers[0] "p".layer.type');
      expect((e as KdnetError).where.position?.line).toBe(1);
    }
  });
});

describe('upgradeV0LayerParameter', () => {
  it('handles every V0LayerParameter field of the schema', () => {
    expect([...V0_HANDLED_FIELDS].sort()).toEqual(Object.keys(caffeType('V0LayerParameter').fields).sort());
  });

  it('moves fillers and blobs rather than dropping them', () => {
    const input = net(`
      layers {
        layer {
          name: 'c' type: 'conv' num_output: 2 kernelsize: 1
          weight_filler { type: 'xavier' }
          blobs { shape { dim: 2 dim: 1 dim: 1 dim: 1 } data: 1 data: 2 }
        }
      }`);
    const v1 = upgradeV0LayerParameter((input.layers as any[])[0], 0);
    expect(v1.convolution_param.weight_filler.type).toBe('xavier');
    expect(caffeType('FillerParameter').encode(v1.convolution_param.weight_filler).finish().length).toBeGreaterThan(0);
    expect(v1.blobs).toHaveLength(1);
    expect(v1.blobs[0].data).toEqual([1, 2]);
  });

  it('drops fields that mean nothing for the layer type, with a warning each', () => {
    const input = net(`
      layers { layer { name: 'r' type: 'relu' num_output: 3 kernelsize: 2 concat_dim: 1 new_num: 4 } }`);
    const v1 = upgradeV0LayerParameter((input.layers as any[])[0], 0);
    expect(obj(v1, 'V1LayerParameter')).toEqual({ name: 'r', type: caffeEnum('V1LayerParameter.LayerType').values.RELU });
    expect(log.warn()).toEqual([
      `layers[0] "r": V0 field 'num_output' has no meaning for V0 layer type "relu"; dropped`,
      `layers[0] "r": V0 field 'kernelsize' has no meaning for V0 layer type "relu"; dropped`,
      `layers[0] "r": V0 field 'concat_dim' has no meaning for V0 layer type "relu"; dropped`,
      `layers[0] "r": V0 field 'new_num' has no V1 equivalent (Caffe ignores it too); dropped`,
    ]);
  });

  it('puts transformation fields into transform_param whatever the layer type (as Caffe does)', () => {
    const input = net(`layers { layer { name: 'h' type: 'hdf5_data' source: 'f.txt' batchsize: 2 scale: 0.5 mirror: true } }`);
    const v1 = upgradeV0LayerParameter((input.layers as any[])[0], 0);
    expect(obj(v1.transform_param, 'TransformationParameter')).toEqual({ scale: 0.5, mirror: true });
    expect(obj(v1.hdf5_data_param, 'HDF5DataParameter')).toEqual({ source: 'f.txt', batch_size: 2 });
  });

  it("maps a pool layer's pad, kernelsize and stride to PoolingParameter's single values", () => {
    const input = net(`layers { layer { name: 'p' type: 'pool' pool: AVE pad: 1 kernelsize: 3 stride: 2 } }`);
    const v1 = upgradeV0LayerParameter((input.layers as any[])[0], 0);
    expect(obj(v1.pooling_param, 'PoolingParameter')).toEqual({ pool: 1, pad: 1, kernel_size: 3, stride: 2 });
  });
});

// Caffe NetUpgradeTest.TestAllParams: every V0 field and type that V0 → V1 handles.
const ALL_PARAMS_V0 = `
name: 'CaffeNet'
input: 'input_data'
input_dim: 64 input_dim: 3 input_dim: 32 input_dim: 32
layers {
  layer {
    name: 'data' type: 'data'
    source: '/home/jiayq/Data/ILSVRC12/train-leveldb'
    meanfile: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto'
    batchsize: 256 cropsize: 227 mirror: true scale: 0.25 rand_skip: 73
  }
  top: 'data' top: 'label'
}
layers {
  layer {
    name: 'images' type: 'images'
    source: '/home/jiayq/Data/ILSVRC12/train-images'
    meanfile: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto'
    batchsize: 256 cropsize: 227 mirror: true scale: 0.25 rand_skip: 73
    shuffle_images: true new_height: 40 new_width: 30
  }
  top: 'images_data' top: 'images_label'
}
layers {
  layer {
    name: 'window_data' type: 'window_data'
    source: '/home/jiayq/Data/ILSVRC12/train-leveldb'
    meanfile: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto'
    batchsize: 256 cropsize: 227 mirror: true
    det_fg_threshold: 0.25 det_bg_threshold: 0.75 det_fg_fraction: 0.5 det_context_pad: 16 det_crop_mode: 'square'
  }
  top: 'window_data' top: 'window_label'
}
layers {
  layer { name: 'hdf5data' type: 'hdf5_data' source: '/my/hdf5/data' batchsize: 256 }
  top: 'hdf5data'
}
layers {
  layer {
    name: 'conv1' type: 'conv' num_output: 96 biasterm: false pad: 4 kernelsize: 11 stride: 4
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 3. }
    blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.
  }
  bottom: 'data' top: 'conv1'
}
layers {
  layer { name: 'pool1ave' type: 'pool' pool: AVE kernelsize: 3 stride: 2 }
  bottom: 'conv1' top: 'pool1ave'
}
layers {
  layer { name: 'pool1stoch' type: 'pool' pool: STOCHASTIC kernelsize: 4 stride: 5 }
  bottom: 'conv1' top: 'pool1stoch'
}
layers {
  layer { name: 'concat' type: 'concat' concat_dim: 2 }
  bottom: 'pool1ave' bottom: 'pool1stoch' top: 'pool1concat'
}
layers {
  layer { name: 'norm1' type: 'lrn' local_size: 5 alpha: 0.0001 beta: 0.75 }
  bottom: 'pool1concat' top: 'norm1'
}
layers {
  layer {
    name: 'fc6' type: 'innerproduct' num_output: 4096 biasterm: false
    weight_filler { type: 'gaussian' std: 0.005 }
    bias_filler { type: 'constant' value: 1. }
    blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.
  }
  bottom: 'norm1' top: 'fc6'
}
layers { layer { name: 'relu6' type: 'relu' } bottom: 'fc6' top: 'fc6' }
layers { layer { name: 'drop6' type: 'dropout' dropout_ratio: 0.2 } bottom: 'fc6' top: 'fc6' }
layers {
  layer { name: 'loss' type: 'infogain_loss' source: '/my/infogain/matrix' }
  bottom: 'fc6' bottom: 'label'
}
layers { layer { name: 'accuracy' type: 'accuracy' } }
layers { layer { name: 'bnll' type: 'bnll' } }
layers { layer { name: 'euclidean_loss' type: 'euclidean_loss' } }
layers { layer { name: 'flatten' type: 'flatten' } }
layers { layer { name: 'hdf5_output' type: 'hdf5_output' hdf5_output_param { file_name: '/my/hdf5/output/file' } } }
layers { layer { name: 'im2col' type: 'im2col' } }
layers { layer { name: 'images' type: 'images' } }
layers { layer { name: 'multinomial_logistic_loss' type: 'multinomial_logistic_loss' } }
layers { layer { name: 'sigmoid' type: 'sigmoid' } }
layers { layer { name: 'softmax' type: 'softmax' } }
layers { layer { name: 'split' type: 'split' } }
layers { layer { name: 'tanh' type: 'tanh' } }
`;

const ALL_PARAMS_V1 = `
name: 'CaffeNet'
input: 'input_data'
input_dim: 64 input_dim: 3 input_dim: 32 input_dim: 32
layers {
  name: 'data' type: DATA
  data_param { source: '/home/jiayq/Data/ILSVRC12/train-leveldb' batch_size: 256 rand_skip: 73 }
  transform_param { crop_size: 227 mirror: true scale: 0.25 mean_file: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto' }
  top: 'data' top: 'label'
}
layers {
  name: 'images' type: IMAGE_DATA
  image_data_param {
    source: '/home/jiayq/Data/ILSVRC12/train-images' batch_size: 256 rand_skip: 73
    shuffle: true new_height: 40 new_width: 30
  }
  transform_param { mean_file: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto' crop_size: 227 mirror: true scale: 0.25 }
  top: 'images_data' top: 'images_label'
}
layers {
  name: 'window_data' type: WINDOW_DATA
  window_data_param {
    source: '/home/jiayq/Data/ILSVRC12/train-leveldb' batch_size: 256
    fg_threshold: 0.25 bg_threshold: 0.75 fg_fraction: 0.5 context_pad: 16 crop_mode: 'square'
  }
  transform_param { mirror: true crop_size: 227 mean_file: '/home/jiayq/Data/ILSVRC12/image_mean.binaryproto' }
  top: 'window_data' top: 'window_label'
}
layers {
  name: 'hdf5data' type: HDF5_DATA
  hdf5_data_param { source: '/my/hdf5/data' batch_size: 256 }
  top: 'hdf5data'
}
layers {
  name: 'conv1' type: CONVOLUTION
  convolution_param {
    num_output: 96 bias_term: false pad: 4 kernel_size: 11 stride: 4
    weight_filler { type: 'gaussian' std: 0.01 }
    bias_filler { type: 'constant' value: 3. }
  }
  blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.
  bottom: 'data' top: 'conv1'
}
layers {
  name: 'pool1ave' type: POOLING
  pooling_param { pool: AVE kernel_size: 3 stride: 2 }
  bottom: 'conv1' top: 'pool1ave'
}
layers {
  name: 'pool1stoch' type: POOLING
  pooling_param { pool: STOCHASTIC kernel_size: 4 stride: 5 }
  bottom: 'conv1' top: 'pool1stoch'
}
layers {
  name: 'concat' type: CONCAT
  concat_param { concat_dim: 2 }
  bottom: 'pool1ave' bottom: 'pool1stoch' top: 'pool1concat'
}
layers {
  name: 'norm1' type: LRN
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }
  bottom: 'pool1concat' top: 'norm1'
}
layers {
  name: 'fc6' type: INNER_PRODUCT
  inner_product_param {
    num_output: 4096 bias_term: false
    weight_filler { type: 'gaussian' std: 0.005 }
    bias_filler { type: 'constant' value: 1. }
  }
  blobs_lr: 1. blobs_lr: 2. weight_decay: 1. weight_decay: 0.
  bottom: 'norm1' top: 'fc6'
}
layers { name: 'relu6' type: RELU bottom: 'fc6' top: 'fc6' }
layers { name: 'drop6' type: DROPOUT dropout_param { dropout_ratio: 0.2 } bottom: 'fc6' top: 'fc6' }
layers {
  name: 'loss' type: INFOGAIN_LOSS
  infogain_loss_param { source: '/my/infogain/matrix' }
  bottom: 'fc6' bottom: 'label'
}
layers { name: 'accuracy' type: ACCURACY }
layers { name: 'bnll' type: BNLL }
layers { name: 'euclidean_loss' type: EUCLIDEAN_LOSS }
layers { name: 'flatten' type: FLATTEN }
layers { name: 'hdf5_output' type: HDF5_OUTPUT hdf5_output_param { file_name: '/my/hdf5/output/file' } }
layers { name: 'im2col' type: IM2COL }
layers { name: 'images' type: IMAGE_DATA }
layers { name: 'multinomial_logistic_loss' type: MULTINOMIAL_LOGISTIC_LOSS }
layers { name: 'sigmoid' type: SIGMOID }
layers { name: 'softmax' type: SOFTMAX }
layers { name: 'split' type: SPLIT }
layers { name: 'tanh' type: TANH }
`;

describe('upgradeV0Net (Caffe NetUpgradeTest)', () => {
  it('upgrades every V0 field and type to V1 (TestAllParams)', () => {
    const input = net(ALL_PARAMS_V0);
    const result = upgradeV0Net(input);
    expect(result).toEqual({ paddingLayers: 0, layers: 25 });
    expect(obj(input)).toEqual(obj(net(ALL_PARAMS_V1)));
    expect(log.warn()).toEqual([]);
  });

  it('upgrades a padded V0 net to V1 (TestSimple, V0 half)', () => {
    const input = net(`name: 'CaffeNet' ${DATA_V0} ${PAD1} ${convV0('conv1', 'pad1')} ${FC8_LOSS_V0}`);
    expect(upgradeV0Net(input)).toEqual({ paddingLayers: 1, layers: 4 });
    const expected = net(`
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
      layers { name: 'loss' type: SOFTMAX_LOSS bottom: 'fc8' bottom: 'label' }`);
    expect(obj(input)).toEqual(obj(expected));
    // the result encodes: every nested message is a real message of the right type
    expect(caffeType('NetParameter').encode(input).finish().length).toBeGreaterThan(0);
  });

  it('keeps force_backward and drops net-level fields V0 did not have, with a warning', () => {
    const input = net(`name: 'n' force_backward: true debug_info: true state { phase: TRAIN } ${DATA_V0}`);
    upgradeV0Net(input);
    expect(input.force_backward).toBe(true);
    expect(has(input, 'debug_info')).toBe(false);
    expect(has(input, 'state')).toBe(false);
    expect(log.warn()).toEqual([`net-level 'state', 'debug_info' dropped while upgrading the V0 net (as Caffe does)`]);
  });

  it('refuses a net mixing V0 and V1 layers', () => {
    const input = net(`${DATA_V0} layers { name: 'r' type: RELU bottom: 'data' top: 'data' }`);
    expect(() => upgradeV0Net(input)).toThrow(/mixes V0 layers .* with V1 layers/);
  });
});
