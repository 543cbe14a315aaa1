// Which layers of a teacher+student training net are the student: walk the graph backward from the student's
// logits (the first bottom of the distillation / SoftmaxWithLoss layers) down to the data layers. Everything
// else — data, losses, Accuracy, Silence, the frozen teacher, hint adapters — stays out of the deployed net.
import { KdnetError } from '../errors.js';
import type { Message } from '../proto/schema.js';

/** Losses whose second bottom is the teacher's output (soft targets). */
const DISTILL_LOSSES = new Set(['KnowledgeDistillation', 'TempSoftmaxCrossEntropyLoss']);
const HARD_LOSS = 'SoftmaxWithLoss';
/** Types that own learnable blobs when no `param` says otherwise (BatchNorm's statistics are never learned). */
const LEARNABLE_TYPES = new Set(['Convolution', 'Deconvolution', 'InnerProduct', 'Scale', 'Bias', 'PReLU', 'Embed', 'LSTM', 'RNN']);

export interface StudentSplit {
  /** Indices (into the TRAIN net's layers), in order, of the student's compute layers. */
  student: number[];
  /** The student's output blob (its logits). */
  logits: string;
  /** Data-layer tops the student reads: each becomes an Input blob. */
  inputs: Array<{ layer: number; top: string }>;
  /** Names of the teacher's layers (frozen, feeding only the distillation losses). */
  teacher: string[];
}

function isDataLayer(l: Message): boolean {
  return (l.bottom as string[]).length === 0;
}

/** Walks backward from `blob` as read by layer `at`; adds every producing layer (and data tops) reached. */
function walkBack(layers: Message[], blob: string, at: number, seen: Set<number>, inputs: Map<string, number>): void {
  for (let i = at - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (!(l.top as string[]).includes(blob)) continue;
    if (isDataLayer(l)) {
      inputs.set(blob, i);
      return;
    }
    if (seen.has(i)) return;
    seen.add(i);
    for (const b of l.bottom as string[]) walkBack(layers, b, i, seen, inputs);
    return;
  }
}

function frozen(l: Message): boolean {
  const params = l.param as Message[];
  if (params.length) return params.every((p) => p.lr_mult === 0);
  return !LEARNABLE_TYPES.has(l.type);
}

const LOOKED_FOR =
  'a KnowledgeDistillation or TempSoftmaxCrossEntropyLoss layer (student logits as its first bottom, teacher output as its second) or a SoftmaxWithLoss layer on the student logits';

/** Splits a TRAIN-phase (filtered, upgraded) net into its student and teacher; `file` names it in errors. */
export function splitStudent(net: Message, file: string): StudentSplit {
  const layers = net.layer as Message[];
  const distill = layers.findIndex((l) => DISTILL_LOSSES.has(l.type));
  const hard = layers.findIndex((l) => l.type === HARD_LOSS);
  const lossAt = distill >= 0 ? distill : hard;
  if (lossAt < 0) throw new KdnetError(`${file}: no student/teacher split found: looked for ${LOOKED_FOR} in the TRAIN phase net`);
  const logits = (layers[lossAt]!.bottom as string[])[0]!;

  const seen = new Set<number>();
  const inputs = new Map<string, number>();
  walkBack(layers, logits, lossAt, seen, inputs);
  if (seen.size === 0) throw new KdnetError(`${file}: no student/teacher split found: the student logits '${logits}' (first bottom of "${layers[lossAt]!.name}") come straight from a data layer, no student layers produce them`);

  // The teacher: what produces each distillation loss's second bottom, outside the student.
  const teacherSeen = new Set<number>();
  for (const [i, l] of layers.entries()) {
    const target = (l.bottom as string[])[1];
    if (DISTILL_LOSSES.has(l.type) && target) walkBack(layers, target, i, teacherSeen, new Map());
  }
  const teacher = [...teacherSeen].filter((i) => !seen.has(i)).sort((a, b) => a - b);
  const learning = teacher.filter((i) => !frozen(layers[i]!));
  if (learning.length) {
    const names = learning.map((i) => `"${layers[i]!.name}"`).join(', ');
    throw new KdnetError(
      `${file}: no student/teacher split found: the teacher (the layers behind the distillation targets) must be frozen (lr_mult: 0 on every param), but ${names} ${learning.length > 1 ? 'learn' : 'learns'}`,
    );
  }
  return {
    student: [...seen].sort((a, b) => a - b),
    logits,
    inputs: [...inputs.entries()].map(([top, layer]) => ({ layer, top })),
    teacher: teacher.map((i) => layers[i]!.name as string),
  };
}
