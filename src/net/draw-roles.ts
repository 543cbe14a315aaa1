// What each layer of a distillation net is for, so a drawing can tell teacher, student, losses and hint
// adapters apart. The student/teacher split is the one `kdnet distill export` uses (splitStudent on the
// TRAIN phase): the teacher is the frozen part behind the distillation targets, the student what produces
// the logits. Losses and hint adapters are recognised by type and name alone, in any net.
import { isKdnetError } from '../errors.js';
import type { Message } from '../proto/schema.js';
import { splitStudent } from '../distill/student-split.js';
import { filterNet, Phase } from './net-state.js';

export type LayerRole = 'teacher' | 'student' | 'loss' | 'hint' | 'other';

export function isLossType(type: string): boolean {
  return type.endsWith('Loss') || type === 'KnowledgeDistillation';
}

/** A hint adapter is named so, or is a layer whose every output feeds only EuclideanLoss layers (FitNets). */
function isHintAdapter(layer: Message, layers: Message[]): boolean {
  if ((layer.name as string).startsWith('hint_adapter_')) return true;
  const tops = layer.top as string[];
  if (tops.length === 0 || (layer.bottom as string[]).length === 0) return false;
  const readers = layers.filter((l) => l !== layer && (l.bottom as string[]).some((b) => tops.includes(b)));
  return readers.length > 0 && readers.every((l) => l.type === 'EuclideanLoss');
}

/**
 * The role of every layer of `net` (all phases, as read from the file), keyed by the layer message itself:
 * layers of a phase-filtered copy are the same objects, and names may repeat across phases.
 */
export function layerRoles(net: Message, file: string): Map<Message, LayerRole> {
  const layers = net.layer as Message[];
  const train = filterNet(net, { phase: Phase.TRAIN, level: 0, stage: [] });
  const trainLayers = train.layer as Message[];
  const student = new Set<Message>();
  const teacher = new Set<string>();
  try {
    const split = splitStudent(train, file);
    // Without a teacher every net would be "all student": only a distillation net has the two roles.
    if (split.teacher.length) for (const i of split.student) student.add(trainLayers[i]!);
    for (const name of split.teacher) teacher.add(name);
  } catch (e) {
    // Not a teacher+student net (or its teacher still learns): draw it without those two roles.
    if (!isKdnetError(e)) throw e;
  }
  const roles = new Map<Message, LayerRole>();
  for (const l of layers) {
    const role: LayerRole = isLossType(l.type)
      ? 'loss'
      : isHintAdapter(l, layers)
        ? 'hint'
        : student.has(l)
          ? 'student'
          : teacher.has(l.name) && trainLayers.includes(l)
            ? 'teacher'
            : 'other';
    roles.set(l, role);
  }
  return roles;
}
