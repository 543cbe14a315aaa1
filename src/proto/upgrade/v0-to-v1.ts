// V0 nets (the 2013 format: `layers { layer { type: "conv" kernelsize: 5 } bottom: … top: … }`) → V1
// (`layers { type: CONVOLUTION convolution_param { kernel_size: 5 } … }`), as Caffe's UpgradeV0Net does it:
// first the separate "padding" layers are folded into the pad of the conv/pool layer that reads them, then
// every V0 layer's flat fields are sorted into the per-type parameter messages of a V1LayerParameter.
import { caffeEnum, clear, has, newMessage, typeOf, type Message } from '../schema.js';
import { KdnetError, type ErrorWhere } from '../../errors.js';
import { log } from '../../log.js';
import { copySideTables, positionOf } from '../../prototxt/side-tables.js';
import { closest } from '../../prototxt/suggest.js';
import { layerLabel, layerWhere, subMessage } from './util.js';
import { assertSingleLayerFormat } from './v1-to-v2.js';

/** Caffe's NetNeedsV0ToV1Upgrade: some entry of `layers` holds a V0 `layer {}`. */
export function netNeedsV0ToV1Upgrade(net: Message): boolean {
  return (net.layers as Message[]).some((l) => has(l, 'layer'));
}

/** The V0 part of a `layers` entry, or undefined when the entry has none. */
function v0Of(connection: Message): Message | undefined {
  return has(connection, 'layer') ? (connection.layer as Message) : undefined;
}

function v0Type(connection: Message): string {
  return (v0Of(connection)?.type as string | undefined) ?? '';
}

function v0Name(connection: Message): string | undefined {
  const v0 = v0Of(connection);
  return v0 && has(v0, 'name') ? (v0.name as string) : undefined;
}

/**
 * Caffe's UpgradeV0PaddingLayers, in place: every V0 layer of type "padding" is removed, and the layer that
 * reads its output (which must be a single-input "conv" or "pool") takes the padding layer's input and its
 * `pad`. Returns how many padding layers were removed (0: the net is unchanged).
 */
export function upgradeV0PaddingLayers(net: Message): number {
  const layers = net.layers as Message[];
  // For each blob name, the index of the layer that last wrote it (-1: a net input).
  const lastWriter = new Map<string, number>();
  for (const input of net.input as string[]) lastWriter.set(input, -1);
  const kept: Message[] = [];
  for (let i = 0; i < layers.length; i++) {
    const connection = layers[i]!;
    const type = v0Type(connection);
    if (type !== 'padding') kept.push(connection);
    const bottoms = connection.bottom as string[];
    for (let j = 0; j < bottoms.length; j++) {
      const blob = bottoms[j]!;
      const writer = lastWriter.get(blob);
      if (writer === undefined) {
        throw new KdnetError(
          `bottom "${blob}" is neither a net input nor the top of an earlier layer (V0 nets are upgraded in order)`,
          layerWhere('layers', i, connection, v0Name(connection), 'bottom'),
        );
      }
      if (writer === -1) continue;
      const source = layers[writer]!;
      if (v0Type(source) !== 'padding') continue;
      const sourceLabel = layerLabel('layers', writer, v0Name(source));
      const where = layerWhere('layers', i, connection, v0Name(connection));
      if (type !== 'conv' && type !== 'pool') {
        throw new KdnetError(
          `reads the output of V0 padding layer ${sourceLabel}, but only "conv" and "pool" layers can absorb a padding layer (this one is "${type}")`,
          where,
        );
      }
      if (bottoms.length !== 1) {
        throw new KdnetError(
          `reads the output of V0 padding layer ${sourceLabel} and so must have exactly 1 bottom, not ${bottoms.length}`,
          where,
        );
      }
      const sourceBottoms = source.bottom as string[];
      const sourceTops = source.top as string[];
      if (sourceBottoms.length !== 1 || sourceTops.length !== 1) {
        throw new KdnetError(
          `a V0 padding layer must have exactly 1 bottom and 1 top (found ${sourceBottoms.length} and ${sourceTops.length})`,
          layerWhere('layers', writer, source, v0Name(source)),
        );
      }
      // The consumer is the layer just kept; it takes over the padding layer's input and pad (pad 0 if unset).
      (connection.layer as Message).pad = (source.layer as Message).pad as number;
      bottoms[j] = sourceBottoms[0]!;
    }
    for (const top of connection.top as string[]) lastWriter.set(top, i);
  }
  const removed = layers.length - kept.length;
  if (removed > 0) net.layers = kept;
  return removed;
}

// Caffe's UpgradeV0LayerType: V0 type strings → V1 enum names. Anything else cannot be upgraded.
const V0_LAYER_TYPES: Record<string, string> = {
  accuracy: 'ACCURACY',
  bnll: 'BNLL',
  concat: 'CONCAT',
  conv: 'CONVOLUTION',
  data: 'DATA',
  dropout: 'DROPOUT',
  euclidean_loss: 'EUCLIDEAN_LOSS',
  flatten: 'FLATTEN',
  hdf5_data: 'HDF5_DATA',
  hdf5_output: 'HDF5_OUTPUT',
  im2col: 'IM2COL',
  images: 'IMAGE_DATA',
  infogain_loss: 'INFOGAIN_LOSS',
  innerproduct: 'INNER_PRODUCT',
  lrn: 'LRN',
  multinomial_logistic_loss: 'MULTINOMIAL_LOGISTIC_LOSS',
  pool: 'POOLING',
  relu: 'RELU',
  sigmoid: 'SIGMOID',
  softmax: 'SOFTMAX',
  softmax_loss: 'SOFTMAX_LOSS',
  split: 'SPLIT',
  tanh: 'TANH',
  window_data: 'WINDOW_DATA',
};

/** The V0 layer type strings Caffe can upgrade. */
export const V0_LAYER_TYPE_NAMES: readonly string[] = Object.keys(V0_LAYER_TYPES);

/** Caffe's UpgradeV0LayerType: a V0 type string → V1LayerParameter.LayerType number. */
export function upgradeV0LayerType(type: string, where: ErrorWhere = {}): number {
  const name = Object.prototype.hasOwnProperty.call(V0_LAYER_TYPES, type) ? V0_LAYER_TYPES[type] : undefined;
  if (name === undefined) {
    const guess = closest(type, V0_LAYER_TYPE_NAMES);
    throw new KdnetError(
      `V0 layer type "${type}" cannot be upgraded${guess ? ` (did you mean "${guess}"?)` : ''}; ` +
        `the V0 types are ${V0_LAYER_TYPE_NAMES.map((t) => `"${t}"`).join(', ')}`,
      where,
    );
  }
  return caffeEnum('V1LayerParameter.LayerType').values[name]!;
}

// Where each type-specific V0 field goes in V1, per V0 layer type: [parameter message field, field in it].
// A V0 field set on a layer type not listed here is dropped with a warning (Caffe logs an error and goes on).
// Order follows Caffe's, so warnings come out in the same order.
type Target = readonly [param: string, field: string];
const V0_FIELD_TARGETS: Record<string, Record<string, Target>> = {
  num_output: { conv: ['convolution_param', 'num_output'], innerproduct: ['inner_product_param', 'num_output'] },
  biasterm: { conv: ['convolution_param', 'bias_term'], innerproduct: ['inner_product_param', 'bias_term'] },
  weight_filler: { conv: ['convolution_param', 'weight_filler'], innerproduct: ['inner_product_param', 'weight_filler'] },
  bias_filler: { conv: ['convolution_param', 'bias_filler'], innerproduct: ['inner_product_param', 'bias_filler'] },
  pad: { conv: ['convolution_param', 'pad'], pool: ['pooling_param', 'pad'] },
  kernelsize: { conv: ['convolution_param', 'kernel_size'], pool: ['pooling_param', 'kernel_size'] },
  group: { conv: ['convolution_param', 'group'] },
  stride: { conv: ['convolution_param', 'stride'], pool: ['pooling_param', 'stride'] },
  pool: { pool: ['pooling_param', 'pool'] },
  dropout_ratio: { dropout: ['dropout_param', 'dropout_ratio'] },
  local_size: { lrn: ['lrn_param', 'local_size'] },
  alpha: { lrn: ['lrn_param', 'alpha'] },
  beta: { lrn: ['lrn_param', 'beta'] },
  k: { lrn: ['lrn_param', 'k'] },
  source: {
    data: ['data_param', 'source'],
    hdf5_data: ['hdf5_data_param', 'source'],
    images: ['image_data_param', 'source'],
    window_data: ['window_data_param', 'source'],
    infogain_loss: ['infogain_loss_param', 'source'],
  },
  batchsize: {
    data: ['data_param', 'batch_size'],
    hdf5_data: ['hdf5_data_param', 'batch_size'],
    images: ['image_data_param', 'batch_size'],
    window_data: ['window_data_param', 'batch_size'],
  },
  rand_skip: { data: ['data_param', 'rand_skip'], images: ['image_data_param', 'rand_skip'] },
  shuffle_images: { images: ['image_data_param', 'shuffle'] },
  new_height: { images: ['image_data_param', 'new_height'] },
  new_width: { images: ['image_data_param', 'new_width'] },
  concat_dim: { concat: ['concat_param', 'concat_dim'] },
  det_fg_threshold: { window_data: ['window_data_param', 'fg_threshold'] },
  det_bg_threshold: { window_data: ['window_data_param', 'bg_threshold'] },
  det_fg_fraction: { window_data: ['window_data_param', 'fg_fraction'] },
  det_context_pad: { window_data: ['window_data_param', 'context_pad'] },
  det_crop_mode: { window_data: ['window_data_param', 'crop_mode'] },
};

// Data transformation fields go to the V1 layer's transform_param whatever the layer type (as in Caffe).
const V0_TRANSFORM_FIELDS: Record<string, string> = {
  scale: 'scale',
  meanfile: 'mean_file',
  cropsize: 'crop_size',
  mirror: 'mirror',
};

/** V0 fields Caffe's upgrade has no place for: dropped with a warning. */
const V0_DROPPED_FIELDS = ['new_num', 'new_channels'] as const;

/** Every V0LayerParameter field this module handles (tests check it covers the schema). */
export const V0_HANDLED_FIELDS: readonly string[] = [
  'name',
  'type',
  'blobs',
  'blobs_lr',
  'weight_decay',
  'hdf5_output_param',
  ...Object.keys(V0_FIELD_TARGETS),
  ...Object.keys(V0_TRANSFORM_FIELDS),
  ...V0_DROPPED_FIELDS,
];

function setField(msg: Message, field: string, value: unknown): void {
  if (typeOf(msg).fields[field]!.repeated) (msg[field] as unknown[]).push(value);
  else msg[field] = value;
}

function poolMethod(v0Value: number): number | undefined {
  const name = caffeEnum('V0LayerParameter.PoolMethod').valuesById[v0Value];
  return name === undefined ? undefined : caffeEnum('PoolingParameter.PoolMethod').values[name];
}

/**
 * Caffe's UpgradeV0LayerParameter: one `layers` entry holding a V0 `layer {}` → a new V1LayerParameter.
 * Fields that have no meaning for the layer's type are dropped with a warning; an unknown type throws.
 * `index` is only used to name the layer in messages.
 */
export function upgradeV0LayerParameter(connection: Message, index = 0): Message {
  const v1 = newMessage('V1LayerParameter');
  copySideTables(connection, v1);
  v1.bottom = [...(connection.bottom as string[])];
  v1.top = [...(connection.top as string[])];
  const v0 = v0Of(connection);
  if (!v0) return v1;
  const label = layerLabel('layers', index, v0.name);
  const warnDropped = (field: string, why: string) => log.warn(`${label}: V0 field '${field}' ${why}; dropped`);

  if (has(v0, 'name')) v1.name = v0.name;
  const type = v0.type as string;
  if (has(v0, 'type')) {
    v1.type = upgradeV0LayerType(type, {
      layer: typeof v0.name === 'string' && v0.name ? (v0.name as string) : undefined,
      path: `${label}.layer.type`,
      position: positionOf(v0, 'type'),
    });
  }
  v1.blobs = [...(v0.blobs as Message[])];
  v1.blobs_lr = [...(v0.blobs_lr as number[])];
  v1.weight_decay = [...(v0.weight_decay as number[])];

  for (const [field, byType] of Object.entries(V0_FIELD_TARGETS)) {
    if (!has(v0, field)) continue;
    const target = Object.prototype.hasOwnProperty.call(byType, type) ? byType[type] : undefined;
    if (!target) {
      warnDropped(field, `has no meaning for V0 layer type "${type}"`);
      continue;
    }
    const [paramName, targetField] = target;
    let value: unknown = v0[field];
    if (field === 'pool') {
      value = poolMethod(v0.pool as number);
      if (value === undefined) {
        warnDropped(field, `has an unknown pool method ${String(v0.pool)}`);
        continue;
      }
    }
    setField(subMessage(v1, paramName), targetField, value);
  }
  for (const [field, targetField] of Object.entries(V0_TRANSFORM_FIELDS)) {
    if (has(v0, field)) subMessage(v1, 'transform_param')[targetField] = v0[field];
  }
  if (has(v0, 'hdf5_output_param')) {
    if (type === 'hdf5_output') v1.hdf5_output_param = v0.hdf5_output_param;
    else warnDropped('hdf5_output_param', `has no meaning for V0 layer type "${type}"`);
  }
  for (const field of V0_DROPPED_FIELDS) {
    if (has(v0, field)) warnDropped(field, 'has no V1 equivalent (Caffe ignores it too)');
  }
  return v1;
}

export interface V0UpgradeResult {
  /** V0 padding layers folded into the conv/pool layer after them. */
  paddingLayers: number;
  /** V0 layers converted to V1 (after padding layers were removed). */
  layers: number;
}

/**
 * Caffe's UpgradeV0Net, in place: padding layers folded, then every `layers` entry converted to V1. As in
 * Caffe, the net keeps only name, layers, input, input_dim and force_backward (other net-level fields did
 * not exist in V0; any present are dropped with a warning).
 */
export function upgradeV0Net(net: Message): V0UpgradeResult {
  assertSingleLayerFormat(net);
  const layers = net.layers as Message[];
  const plain = layers.findIndex((l) => !has(l, 'layer'));
  if (plain >= 0) {
    const l = layers[plain]!;
    throw new KdnetError(
      'this net mixes V0 layers (layers { layer { ... } }) with V1 layers; a V0 net must give every layer in V0 form',
      layerWhere('layers', plain, l, l.name),
    );
  }
  const paddingLayers = upgradeV0PaddingLayers(net);
  const upgraded = (net.layers as Message[]).map((l, i) => upgradeV0LayerParameter(l, i));
  const dropped = ['input_shape', 'state', 'debug_info'].filter((f) => has(net, f));
  if (dropped.length) {
    log.warn(`net-level ${dropped.map((f) => `'${f}'`).join(', ')} dropped while upgrading the V0 net (as Caffe does)`);
    for (const f of dropped) clear(net, f);
  }
  net.layers = upgraded;
  return { paddingLayers, layers: upgraded.length };
}
