// The teacher inside a distillation net: the layers that compute the teacher's logits and not the student's.
// A teacher must not learn (wentianli's README: lr_mult and decay_mult 0 on its parameters, use_global_stats
// on its BatchNorm layers), and KnowledgeDistillation refuses to send it a gradient at all.
import { newMessage, type Message } from '../../proto/schema.js';
import { subMessage } from '../../proto/upgrade/util.js';
import { isKnownLayerType } from '../../layers/catalog.js';
import type { NetGraph } from './graph.js';
import type { ConversionReport } from './recipe.js';

const bias = (layer: Message, field: string, byDefault: boolean): number => {
  const p = layer[field] as Message | null;
  return (p ? (p.bias_term as boolean) : byDefault) ? 1 : 0;
};

/** How many parameter blobs a layer of a kdnet-known type has; undefined for types kdnet does not know. */
export function paramBlobCount(layer: Message): number | undefined {
  const bottoms = (layer.bottom as string[]).length;
  switch (layer.type) {
    case 'Convolution':
    case 'Deconvolution':
      return 1 + bias(layer, 'convolution_param', true);
    case 'InnerProduct':
      return 1 + bias(layer, 'inner_product_param', true);
    case 'Embed':
      return 1 + bias(layer, 'embed_param', true);
    case 'Scale':
      return (bottoms === 1 ? 1 : 0) + bias(layer, 'scale_param', false);
    case 'Bias':
      return bottoms === 1 ? 1 : 0;
    case 'PReLU':
    case 'Parameter':
      return 1;
    case 'BatchNorm':
      return 3;
    case 'LSTM':
      return 3 + (bottoms > 2 ? 1 : 0);
    case 'RNN':
      return 5 + (bottoms > 2 ? 1 : 0);
    case 'Python': // a Python layer may own blobs kdnet cannot see
      return undefined;
    default:
      return isKnownLayerType(layer.type) ? 0 : undefined;
  }
}

/** Layers computing `teacherLogits` (a layer index) that do not also compute `studentLogits`. */
export function teacherLayers(g: NetGraph, teacherLogits: number, studentLogits: number): number[] {
  const student = g.ancestors(studentLogits);
  return [...g.ancestors(teacherLogits)].filter((i) => !student.has(i)).sort((a, b) => a - b);
}

function frozen(layer: Message, blobs: number): boolean {
  const params = layer.param as Message[];
  return params.length >= blobs && params.slice(0, blobs).every((p) => p.lr_mult === 0 && p.decay_mult === 0);
}

/**
 * Sets `param { lr_mult: 0 decay_mult: 0 }` for every parameter blob of the teacher layers (keeping param
 * names), and use_global_stats on their BatchNorm layers; reports what changed and what it could not judge.
 */
export function freezeTeacher(g: NetGraph, layers: number[], report: ConversionReport): void {
  const changed: string[] = [];
  const already: string[] = [];
  const unknown: string[] = [];
  for (const i of layers) {
    const layer = g.layers[i]!;
    const blobs = paramBlobCount(layer);
    if (blobs === undefined) {
      unknown.push(`"${layer.name}" (${layer.type})`);
      continue;
    }
    if (layer.type === 'BatchNorm') {
      const bn = subMessage(layer, 'batch_norm_param');
      if (bn.use_global_stats !== true) {
        bn.use_global_stats = true;
        report.changes.push(`teacher BatchNorm "${layer.name}": use_global_stats: true, so training does not update its mean and variance`);
      }
    }
    if (blobs === 0) continue;
    if (frozen(layer, blobs)) {
      already.push(`"${layer.name}"`);
      continue;
    }
    const params = layer.param as Message[];
    while (params.length < blobs) params.push(newMessage('ParamSpec'));
    for (const p of params) {
      p.lr_mult = 0;
      p.decay_mult = 0;
    }
    changed.push(`"${layer.name}"`);
  }
  if (changed.length) {
    report.changes.push(
      `froze the teacher: param { lr_mult: 0 decay_mult: 0 } on ${changed.join(', ')} (they compute only the teacher's logits; the distillation loss sends the teacher no gradient)`,
    );
  }
  if (already.length) report.changes.push(`teacher layers already frozen: ${already.join(', ')}`);
  if (unknown.length) {
    report.warnings.push(`teacher layers of types kdnet does not know: ${unknown.join(', ')}: set lr_mult: 0 and decay_mult: 0 on their parameters yourself`);
  }
  const dropout = layers.filter((i) => g.layers[i]!.type === 'Dropout').map((i) => g.name(i));
  if (dropout.length) {
    report.warnings.push(`teacher Dropout ${dropout.join(', ')} is active in TRAIN, so the teacher's soft targets are noisy; remove it for a deterministic teacher (Caffe's Dropout is the identity at test time)`);
  }
}

/**
 * Freezes the teacher behind a distillation loss whose bottom 0 is the student's and bottom 1 the teacher's
 * output; says where soft targets come from when no layer computes them in the net (a second database).
 */
export function freezeTeacherOf(g: NetGraph, loss: number, report: ConversionReport): void {
  const student = g.producer(loss, 0);
  const teacher = g.producer(loss, 1);
  const layers = teacherLayers(g, teacher, student);
  if (layers.some((i) => paramBlobCount(g.layers[i]!) !== 0)) {
    freezeTeacher(g, layers, report);
  } else if (teacher >= 0) {
    const source = g.layers[teacher]!;
    const db = (source.data_param as Message | null)?.source as string | undefined;
    report.changes.push(`"${g.layers[loss]!.name}": its targets '${g.layers[loss]!.bottom[1]}' come from ${g.name(teacher)} (${source.type}${db ? `, '${db}'` : ''}): no teacher in the net to freeze`);
  }
}
