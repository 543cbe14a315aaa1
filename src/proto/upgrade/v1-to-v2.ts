// V1 nets (`layers { type: CONVOLUTION blobs_lr: 1 … }`) → the current format (`layer { type: "Convolution"
// param { lr_mult: 1 } … }`), as Caffe's UpgradeV1Net does it; plus Caffe's data-transformation upgrade,
// which moves the V1 data layers' own scale / mean_file / crop_size / mirror into transform_param.
import { caffeEnum, clear, has, newMessage, type Message } from '../schema.js';
import { KdnetError, type ErrorWhere } from '../../errors.js';
import { log } from '../../log.js';
import { copySideTables, positionOf } from '../../prototxt/side-tables.js';
import { layerLabel, layerWhere, subMessage } from './util.js';

/** Caffe's NetNeedsV1ToV2Upgrade: the net has V1 `layers` entries. */
export function netNeedsV1ToV2Upgrade(net: Message): boolean {
  return (net.layers as Message[]).length > 0;
}

/**
 * A net gives its layers either as V1 `layers` or as current `layer`, never both. (Caffe logs an error and
 * silently drops the `layer` entries; kdnet refuses, since half the net would vanish.)
 */
export function assertSingleLayerFormat(net: Message): void {
  const v1 = (net.layers as Message[]).length;
  const v2 = (net.layer as Message[]).length;
  if (v1 > 0 && v2 > 0) {
    throw new KdnetError(
      `the net gives both legacy 'layers' (${v1}) and current 'layer' (${v2}) entries; ` +
        "write every layer in one format (the legacy 'layers' would replace the 'layer' entries when upgraded)",
      { path: 'layers', position: positionOf(net, 'layers') },
    );
  }
}

// Caffe's UpgradeV1LayerType: every V1LayerParameter.LayerType name → the registered layer type string.
const V1_LAYER_TYPES: Record<string, string> = {
  NONE: '',
  ABSVAL: 'AbsVal',
  ACCURACY: 'Accuracy',
  ARGMAX: 'ArgMax',
  BNLL: 'BNLL',
  CONCAT: 'Concat',
  CONTRASTIVE_LOSS: 'ContrastiveLoss',
  CONVOLUTION: 'Convolution',
  DECONVOLUTION: 'Deconvolution',
  DATA: 'Data',
  DROPOUT: 'Dropout',
  DUMMY_DATA: 'DummyData',
  EUCLIDEAN_LOSS: 'EuclideanLoss',
  ELTWISE: 'Eltwise',
  EXP: 'Exp',
  FLATTEN: 'Flatten',
  HDF5_DATA: 'HDF5Data',
  HDF5_OUTPUT: 'HDF5Output',
  HINGE_LOSS: 'HingeLoss',
  IM2COL: 'Im2col',
  IMAGE_DATA: 'ImageData',
  INFOGAIN_LOSS: 'InfogainLoss',
  INNER_PRODUCT: 'InnerProduct',
  LRN: 'LRN',
  MEMORY_DATA: 'MemoryData',
  MULTINOMIAL_LOGISTIC_LOSS: 'MultinomialLogisticLoss',
  MVN: 'MVN',
  POOLING: 'Pooling',
  POWER: 'Power',
  RELU: 'ReLU',
  SIGMOID: 'Sigmoid',
  SIGMOID_CROSS_ENTROPY_LOSS: 'SigmoidCrossEntropyLoss',
  SILENCE: 'Silence',
  SOFTMAX: 'Softmax',
  SOFTMAX_LOSS: 'SoftmaxWithLoss',
  SPLIT: 'Split',
  SLICE: 'Slice',
  TANH: 'TanH',
  WINDOW_DATA: 'WindowData',
  THRESHOLD: 'Threshold',
};

/** Caffe's UpgradeV1LayerType: a V1LayerParameter.LayerType number → the current type string (NONE → ""). */
export function upgradeV1LayerType(type: number, where: ErrorWhere = {}): string {
  const name = caffeEnum('V1LayerParameter.LayerType').valuesById[type];
  const v2 = name === undefined ? undefined : V1_LAYER_TYPES[name];
  if (v2 === undefined) throw new KdnetError(`unknown V1 layer type ${type}`, where);
  return v2;
}

// The per-type parameter messages Caffe's UpgradeV1LayerParameter copies, each to the LayerParameter field of
// the same name (a test checks this is every *_param field of V1LayerParameter).
export const V1_PARAM_FIELDS: readonly string[] = [
  'accuracy_param',
  'argmax_param',
  'concat_param',
  'contrastive_loss_param',
  'convolution_param',
  'data_param',
  'dropout_param',
  'dummy_data_param',
  'eltwise_param',
  'exp_param',
  'hdf5_data_param',
  'hdf5_output_param',
  'hinge_loss_param',
  'image_data_param',
  'infogain_loss_param',
  'inner_product_param',
  'lrn_param',
  'memory_data_param',
  'mvn_param',
  'pooling_param',
  'power_param',
  'relu_param',
  'sigmoid_param',
  'softmax_param',
  'slice_param',
  'tanh_param',
  'threshold_param',
  'window_data_param',
  'transform_param',
  'loss_param',
];

/** The `param` entry `i` of a LayerParameter, adding empty entries up to it (Caffe's add_param loop). */
function paramAt(layer: Message, i: number): Message {
  const params = layer.param as Message[];
  while (params.length <= i) params.push(newMessage('ParamSpec'));
  return params[i]!;
}

/**
 * Caffe's UpgradeV1LayerParameter: one V1LayerParameter → a new LayerParameter. Sub-messages (parameter
 * messages, rules, blobs) are moved, not copied, so positions and kept fork fields travel with them.
 * `index` is only used to name the layer in messages.
 */
export function upgradeV1LayerParameter(v1: Message, index = 0): Message {
  const layer = newMessage('LayerParameter');
  copySideTables(v1, layer);
  const where = (field?: string) => layerWhere('layers', index, v1, v1.name, field);
  layer.bottom = [...(v1.bottom as string[])];
  layer.top = [...(v1.top as string[])];
  if (has(v1, 'name')) layer.name = v1.name;
  layer.include = [...(v1.include as Message[])];
  layer.exclude = [...(v1.exclude as Message[])];
  if (has(v1, 'type')) layer.type = upgradeV1LayerType(v1.type as number, where('type'));
  layer.blobs = [...(v1.blobs as Message[])];

  (v1.param as string[]).forEach((name, i) => {
    paramAt(layer, i).name = name;
  });
  const v1Modes = caffeEnum('V1LayerParameter.DimCheckMode');
  const modes = caffeEnum('ParamSpec.DimCheckMode');
  (v1.blob_share_mode as number[]).forEach((mode, i) => {
    const name = v1Modes.valuesById[mode];
    const v2 = name === undefined ? undefined : modes.values[name];
    if (v2 === undefined) throw new KdnetError(`unknown blob_share_mode ${mode}`, where('blob_share_mode'));
    paramAt(layer, i).share_mode = v2;
  });
  (v1.blobs_lr as number[]).forEach((lr, i) => {
    paramAt(layer, i).lr_mult = lr;
  });
  (v1.weight_decay as number[]).forEach((decay, i) => {
    paramAt(layer, i).decay_mult = decay;
  });
  layer.loss_weight = [...(v1.loss_weight as number[])];

  for (const field of V1_PARAM_FIELDS) {
    if (has(v1, field)) layer[field] = v1[field];
  }
  if (has(v1, 'layer')) {
    log.warn(`${layerLabel('layers', index, v1.name)}: a V0 'layer {}' inside a V1 layer is ignored`);
  }
  return layer;
}

/**
 * Caffe's UpgradeV1Net, in place: `layers` (V1) become `layer` entries; every other net field stays.
 * Returns the number of layers converted. A net that also has `layer` entries is refused.
 */
export function upgradeV1Net(net: Message): number {
  assertSingleLayerFormat(net);
  const v1 = net.layers as Message[];
  net.layer = v1.map((l, i) => upgradeV1LayerParameter(l, i));
  clear(net, 'layers');
  return v1.length;
}

// The V1 data layers whose own parameter message carried transformation fields before transform_param.
const DATA_LAYER_PARAMS: Record<string, string> = {
  DATA: 'data_param',
  IMAGE_DATA: 'image_data_param',
  WINDOW_DATA: 'window_data_param',
};
const LEGACY_TRANSFORM_FIELDS = ['scale', 'mean_file', 'crop_size', 'mirror'] as const;

function dataParamName(layer: Message): string | undefined {
  if (!has(layer, 'type')) return undefined;
  const typeName = caffeEnum('V1LayerParameter.LayerType').valuesById[layer.type as number];
  return typeName === undefined ? undefined : DATA_LAYER_PARAMS[typeName];
}

/** Caffe's NetNeedsDataUpgrade: a V1 Data/ImageData/WindowData layer sets scale, mean_file, crop_size or mirror in its own parameter. */
export function netNeedsDataUpgrade(net: Message): boolean {
  return (net.layers as Message[]).some((layer) => {
    const param = dataParamName(layer);
    return param !== undefined && has(layer, param) && LEGACY_TRANSFORM_FIELDS.some((f) => has(layer[param], f));
  });
}

/**
 * Caffe's UpgradeNetDataTransformation, in place: for every V1 DATA / IMAGE_DATA / WINDOW_DATA layer, the
 * legacy fields move from its data/image_data/window_data_param to its transform_param (overwriting what
 * transform_param had). As in Caffe, every such layer ends up with both messages present, if empty.
 * Returns the number of layers whose fields moved.
 */
export function upgradeNetDataTransformation(net: Message): number {
  let changed = 0;
  for (const layer of net.layers as Message[]) {
    const paramName = dataParamName(layer);
    if (paramName === undefined) continue;
    const param = subMessage(layer, paramName);
    const transform = subMessage(layer, 'transform_param');
    let moved = false;
    for (const field of LEGACY_TRANSFORM_FIELDS) {
      if (!has(param, field)) continue;
      transform[field] = param[field];
      clear(param, field);
      moved = true;
    }
    if (moved) changed++;
  }
  return changed;
}
