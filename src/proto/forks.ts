// What kdnet knows about the additions of well-known Caffe forks: the layer types they registered and the
// fields they added to master's messages, each with the fork it comes from, so that a fork file is reported
// by name ("ROIPooling, from py-faster-rcnn") rather than as a pile of unknowns. Facts from the forks'
// sources (their caffe.proto and REGISTER_LAYER_CLASS lines).
import type { Message } from './schema.js';
import { isKnownLayerType } from '../layers/catalog.js';
import { positionOf } from '../prototxt/side-tables.js';
import { KdnetError } from '../errors.js';

const SSD = 'SSD (weiliu89/caffe, branch ssd)';
const FAST_RCNN = 'py-faster-rcnn (rbgirshick/caffe-fast-rcnn)';
const RFCN = 'R-FCN (daijifeng001/caffe-rfcn)';
const DEEPLAB = 'DeepLab (deeplab-public)';
const SEGNET = 'SegNet (alexgkendall/caffe-segnet)';

/** Layer types of forks, by name: where each is from. */
export const FORK_LAYER_TYPES: Readonly<Record<string, string>> = {
  AnnotatedData: SSD,
  PriorBox: SSD,
  DetectionOutput: SSD,
  DetectionEvaluate: SSD,
  MultiBoxLoss: SSD,
  Normalize: SSD,
  Permute: SSD,
  VideoData: SSD,
  SmoothL1Loss: `${FAST_RCNN} and ${SSD}`,
  ROIPooling: FAST_RCNN,
  PSROIPooling: RFCN,
  BoxAnnotatorOHEM: RFCN,
  ImageLabelmapData: 'HED (s9xie/hed)',
  Interp: `${DEEPLAB} and PSPNet (hszhao/PSPNet)`,
  ImageSegData: DEEPLAB,
  SegAccuracy: DEEPLAB,
  Upsample: SEGNET,
  DenseImageData: SEGNET,
  BN: `${SEGNET} and PSPNet (hszhao/PSPNet)`,
  ShuffleChannel: 'ShuffleNet (farmingyard/ShuffleNet)',
  DepthwiseConvolution: 'MobileNet (yonghenglh6/DepthwiseConvolution)',
  Axpy: 'SENet (hujie-frank/SENet)',
};

export interface ForkField {
  /** The fork that added the field, when it is well known. */
  fork?: string;
  /**
   * How kdnet handles it when it does: kept as written with this warning (and, for some, upgraded to master's
   * equivalent by upgrade/fork-fields.ts). Without it the field is an error naming the fork.
   */
  handling?: string;
}

/** Fields forks added to master's messages: message type → field → what kdnet knows. */
export const FORK_FIELDS: Readonly<Record<string, Readonly<Record<string, ForkField>>>> = {
  SolverParameter: {
    eval_type: { fork: SSD, handling: 'ignored (it chooses how the fork evaluates detections)' },
    ap_version: { fork: SSD, handling: 'ignored (it chooses how the fork evaluates detections)' },
    show_per_class_result: { fork: SSD, handling: 'ignored (it chooses how the fork evaluates detections)' },
  },
  PoolingParameter: {
    ceil_mode: { fork: 'BVLC/caffe PR #3057 and the forks that merged it', handling: "upgraded to master's round_mode" },
  },
  DropoutParameter: {
    scale_train: { fork: FAST_RCNN, handling: "upgraded to master's Dropout (with a Power layer where it is false)" },
  },
  DataParameter: {
    shuffle: { handling: 'ignored: the database is read in order, as in Caffe master' },
  },
  TransformationParameter: {
    resize_param: { fork: SSD },
    noise_param: { fork: SSD },
    distort_param: { fork: SSD },
    expand_param: { fork: SSD },
    emit_constraint: { fork: SSD },
  },
};

export function forkOfLayerType(type: string): string | undefined {
  return Object.hasOwn(FORK_LAYER_TYPES, type) ? FORK_LAYER_TYPES[type] : undefined;
}

export function forkField(message: string, field: string): ForkField | undefined {
  const fields = FORK_FIELDS[message];
  return fields && Object.hasOwn(fields, field) ? fields[field] : undefined;
}

/** A layer as reports list it: its name, and for Python layers the module and class Caffe would load. */
export function layerLabel(lp: Message): string {
  if (lp.type !== 'Python') return `"${lp.name}"`;
  const p = lp.python_param;
  return `"${lp.name}" (python_param { module: "${p?.module ?? ''}" layer: "${p?.layer ?? ''}" })`;
}

/** The one error for layer types Caffe master lacks: every such type, the fork it is from, its layers. */
export function forkTypesError(layers: readonly Message[]): KdnetError | undefined {
  const byType = new Map<string, Message[]>();
  for (const lp of layers) {
    if (!lp.type || isKnownLayerType(lp.type)) continue; // a missing type is the structural check's
    const list = byType.get(lp.type);
    if (list) list.push(lp);
    else byType.set(lp.type, [lp]);
  }
  if (!byType.size) return undefined;
  const parts = [...byType].map(([type, ls]) => {
    const fork = forkOfLayerType(type);
    const names = ls.slice(0, 3).map((l) => `"${l.name}"`).join(', ') + (ls.length > 3 ? `, … (${ls.length} layers)` : '');
    return `${type}${fork ? ` from ${fork}` : ''}: ${names}`;
  });
  const n = byType.size;
  return new KdnetError(`${n} layer type${n > 1 ? 's are' : ' is'} not in Caffe master: ${parts.join('; ')}`, {
    position: positionOf([...byType.values()][0]![0]!),
  });
}
