// The distillation loss layers kdnet writes (`distill init`, `distill sweep`, `kdnet demo`): which parameter
// holds each one's temperature, the T² convention of their loss weights, and the layer itself.
import { KdnetError } from '../errors.js';
import { newMessage, type Message } from '../proto/schema.js';

export type SoftLossLayer = 'KnowledgeDistillation' | 'TempSoftmaxCrossEntropyLoss';

/** Where each layer type keeps its temperature. */
export const SOFT_LOSS_PARAM: Record<SoftLossLayer, { field: string; type: string }> = {
  KnowledgeDistillation: { field: 'knowledge_distillation_param', type: 'KnowledgeDistillationParameter' },
  TempSoftmaxCrossEntropyLoss: { field: 'tempsoftmax_param', type: 'TempSoftmaxParameter' },
};

/**
 * The soft loss's loss_weight for a base weight w (1 − α by default): w for KnowledgeDistillation, whose
 * gradient already carries T²; T²·w for TempSoftmaxCrossEntropyLoss, whose gradient is Hinton's (z_s − z_t)/T²
 * and needs the T² back. `kdnet distill sweep` rescales weights through this too.
 */
export function softLossWeight(layer: SoftLossLayer, temperature: number, base: number): number {
  return layer === 'KnowledgeDistillation' ? base : temperature * temperature * base;
}

/** One error for a temperature the soft loss layer cannot take (`what` names the flag or layer). */
export function checkTemperature(layer: SoftLossLayer, temperature: number, what = '--temperature'): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new KdnetError(`${what} must be positive, got ${temperature}`);
  if (layer === 'TempSoftmaxCrossEntropyLoss' && !(temperature > 1)) throw new KdnetError(`${what} must be > 1 for TempSoftmaxCrossEntropyLoss, got ${temperature}`);
}

export interface SoftLossSpec {
  type: SoftLossLayer;
  name: string;
  /** The student's logits and the teacher's (logits, as both layers take them). */
  student: string;
  teacher: string;
  temperature: number;
  /** loss_weight as written (already through softLossWeight). */
  weight: number;
  /** Only in this phase (Phase.TRAIN for a teacher that exists in training only). */
  phase?: number;
}

/** The layer: `name` (type) on [student, teacher] with its temperature parameter and loss weight. */
export function softLossLayer(s: SoftLossSpec): Message {
  const { field, type } = SOFT_LOSS_PARAM[s.type];
  return newMessage('LayerParameter', {
    name: s.name,
    type: s.type,
    bottom: [s.student, s.teacher],
    top: [s.name],
    ...(s.phase === undefined ? {} : { include: [newMessage('NetStateRule', { phase: s.phase })] }),
    loss_weight: [s.weight],
    [field]: newMessage(type, { temperature: s.temperature }),
  });
}

/** The student's hard loss: its SoftmaxWithLoss on (logits, label). */
export function studentHardLoss(student: Message[], file: string): Message {
  const hard = student.find((l) => l.type === 'SoftmaxWithLoss');
  if (!hard || (hard.bottom as string[]).length < 2) throw new KdnetError(`${file}: the student needs a SoftmaxWithLoss layer (logits, label) for the hard loss`);
  return hard;
}
