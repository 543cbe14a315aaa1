// The 2015 caffe-users recipe: teacher and student in one net, each net's logits z divided by T in a Power
// layer (power 1, scale 1/T, shift 0), a Softmax of each, and a patched-in CROSS_ENTROPY_LOSS between the
// student's softmax q (bottom 0) and the teacher's p (bottom 1, the soft labels).
//
// CROSS_ENTROPY_LOSS was never in stock Caffe; the thread's layer is SigmoidCrossEntropyLoss with the sigmoid
// taken out. kdnet reads it as the cross-entropy of the two distributions, L = −Σ p·log q / N (N = batch),
// whose gradient through the Softmax is (q − p)/N. (A variant that also adds the binary (1 − p)·log(1 − q)
// terms trained a different loss; the relation below holds for −Σ p·log q.)
//
// Old gradient on the unscaled student logits, per unit loss weight: (q − p)/(N·T) (Power's chain factor 1/T).
// KnowledgeDistillation on the unscaled logits: loss KL(p‖q) = L − H(p)/N, gradient T·(q − p)/N. So with the
// same loss_weight w the new gradient is T² times the old one (Hinton's T² factor, which the old recipe
// lacked), and loss_weight w/T² reproduces the old training exactly.
import { caffeEnum, newMessage, type Message } from '../../proto/schema.js';
import { Phase } from '../../net/net-state.js';
import { NetGraph } from './graph.js';
import { teacherLayers, freezeTeacher } from './teacher.js';
import {
  assertOnlyUsedWithin,
  assertSameVersion,
  layerError,
  lossWeight,
  num,
  powerTemperature,
  quoted,
  removeLayers,
  replacementLoss,
  type ConversionReport,
  type ConvertContext,
  type ConvertOptions,
  type Recipe,
} from './recipe.js';

const CROSS_ENTROPY_TYPES = ['CROSS_ENTROPY_LOSS', 'CrossEntropyLoss'];

interface Branch {
  softmax: number;
  power: number;
  temperature: number;
  /** The unscaled logits: the Power layer's bottom and the layer that wrote it. */
  logits: string;
  producer: number;
}

/** Softmax ← Power ← logits behind bottom `b` of the loss layer `loss`. */
function branch(g: NetGraph, loss: number, b: number, role: string): Branch {
  const lossLayer = g.layers[loss]!;
  const softmax = g.producer(loss, b);
  if (softmax < 0 || g.layers[softmax]!.type !== 'Softmax') {
    throw layerError(lossLayer, `bottom ${b} ('${lossLayer.bottom[b]}', the ${role}) should come from a Softmax of Power-scaled logits, but ${softmax < 0 ? 'no layer produces it' : `comes from ${g.name(softmax)} (${g.layers[softmax]!.type})`}`);
  }
  const power = g.producer(softmax, 0);
  if (power < 0 || g.layers[power]!.type !== 'Power') {
    throw layerError(g.layers[softmax]!, `should read Power-scaled logits (the ${role}'s temperature), but ${power < 0 ? 'no layer produces its input' : `reads ${g.name(power)} (${g.layers[power]!.type})`}`);
  }
  const logits = g.layers[power]!.bottom[0] as string;
  return { softmax, power, temperature: powerTemperature(g.layers[power]!), logits, producer: g.producer(power, 0) };
}

function convertOne(g: NetGraph, test: NetGraph, loss: number, report: ConversionReport, options: ConvertOptions, removed: Set<number>): Message {
  const old = g.layers[loss]!;
  if ((old.bottom as string[]).length !== 2) throw layerError(old, `takes the student's and the teacher's softmax outputs (2 bottoms), got ${old.bottom.length}`, 'bottom');
  const student = branch(g, loss, 0, 'student prediction');
  const teacher = branch(g, loss, 1, 'teacher soft labels');
  const T = student.temperature;
  if (Math.fround(T) !== Math.fround(teacher.temperature)) {
    throw layerError(old, `the student's Power ${g.name(student.power)} divides by T = ${num(T)} but the teacher's ${g.name(teacher.power)} by T = ${num(teacher.temperature)}: a distillation loss has one temperature`);
  }
  const hack = new Set([student.power, student.softmax, teacher.power, teacher.softmax, loss]);
  assertOnlyUsedWithin([g, test], hack, 'KnowledgeDistillation applies the temperature and the softmax itself');
  for (const i of hack) removed.add(i);
  for (const side of [student, teacher]) assertSameVersion(g, loss, side.logits, side.producer, removed);

  const w = lossWeight(old);
  const weight = options.matchOldGradients ? w / (T * T) : w;
  const kd = replacementLoss(old, 'KnowledgeDistillation', [student.logits, teacher.logits], ['knowledge_distillation_param', 'KnowledgeDistillationParameter', { temperature: T }], weight);
  // The old layer divided by the batch size; KnowledgeDistillation's default (VALID) divides by N·H·W.
  kd.loss_param = newMessage('LossParameter', { normalization: caffeEnum('LossParameter.NormalizationMode').values.BATCH_SIZE });

  report.changes.push(
    `"${old.name}": ${old.type} over Softmax(Power) outputs → KnowledgeDistillation on the unscaled logits '${student.logits}' (student) and ` +
      `'${teacher.logits}' (teacher), temperature ${num(T)} (= 1 / power_param.scale ${num(1 / T)})`,
    `removed ${quoted([student.power, student.softmax, teacher.power, teacher.softmax].map((i) => g.layers[i]!))}: KnowledgeDistillation divides by T and takes both softmaxes itself`,
    `"${old.name}": loss_param { normalization: BATCH_SIZE }, dividing by the batch size as ${old.type} did (the layer's default divides by N·H·W for spatial logits; the same for N×C logits)`,
  );
  freezeTeacher(g, teacherLayers(g, teacher.producer, student.producer), report);
  const factor = T * T;
  report.warnings.push(
    `"${old.name}": ${old.type} is read as the cross-entropy −Σ p·log q / N of the teacher's soft labels p and the student's softmax q (the caffe-users layer: ` +
      `SigmoidCrossEntropyLoss without its sigmoid); a build whose layer also added the binary terms (1 − p)·log(1 − q) trained a different loss, and the relation below does not hold for it`,
    `"${old.name}": the old gradient reached the student's logits through Power's 1/T: (q − p)/(N·T) per unit loss weight; KnowledgeDistillation's is ` +
      `T·(q − p)/N, T² = ${num(factor)} times larger (Hinton's T², which the old recipe lacked). ` +
      (options.matchOldGradients
        ? `loss_weight ${num(w)} was rescaled to ${num(weight)} (= ${num(w)} / T²), so training follows the old recipe exactly.`
        : `loss_weight ${num(w)} is kept; loss_weight ${num(w / factor)} (= ${num(w)} / T²) trains exactly as the old recipe did (--match-old-gradients writes it).`),
    `"${old.name}" now reports KL(p‖q), the old cross-entropy minus the teacher's entropy H(p)/N (a constant for the student): the logged value is lower, its gradient is as above.`,
  );
  return kd;
}

export const powerCrossEntropy: Recipe = {
  id: 'power-cross-entropy',
  title: "teacher and student in one net, Power (scale 1/T) and Softmax on both logits, CROSS_ENTROPY_LOSS (caffe-users, 2015)",
  looksFor: 'a CROSS_ENTROPY_LOSS layer between Softmax(Power(student logits)) and Softmax(Power(teacher logits))',
  convert(net, ctx: ConvertContext) {
    const g = new NetGraph(net, Phase.TRAIN);
    const test = new NetGraph(net, Phase.TEST);
    const losses = g.layersOfType(...CROSS_ENTROPY_TYPES);
    const removed = new Set<number>();
    const replaced = losses.map((i) => [i, convertOne(g, test, i, ctx.report, ctx.options, removed)] as const);
    for (const [i] of replaced) removed.delete(i);
    const gone = new Set([...removed].map((i) => g.layers[i]!));
    const layers = net.layer as Message[];
    for (const [i, kd] of replaced) {
      layers[i] = kd;
      ctx.created.add(kd);
    }
    removeLayers(net, gone);
    return losses.length;
  },
};
