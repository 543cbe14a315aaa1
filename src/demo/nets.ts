// The demo's nets and solvers, made from the ready models (models/lenet for the teacher, models/fashion_mnist_kd
// for the student) with their data sources pointed at the demo's databases. The distilled students read the
// teacher's logits from a second database in step with the images (the old two-database recipe) and add a
// KnowledgeDistillation loss; the hard loss ignores the transfer set's unlabelled images.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KdnetError } from '../errors.js';
import { loadNetFile } from '../proto/load.js';
import { newMessage, type Message } from '../proto/schema.js';
import { Phase } from '../net/net-state.js';
import { UNLABELLED } from './data.js';
import { softLossLayer, softLossWeight, studentHardLoss } from '../distill/soft-loss.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEACHER_TEMPLATE = path.join(packageRoot, 'models', 'lenet', 'lenet_train_test.prototxt');
export const STUDENT_TEMPLATE = path.join(packageRoot, 'models', 'fashion_mnist_kd', 'student.prototxt');

export interface Sources {
  train: string;
  test: string;
}

export interface DistillSpec {
  /** Database of the teacher's logits, record for record beside `sources.train`. */
  logits: string;
  temperature: number;
  /** Weight of the hard loss; the soft loss gets 1 − alpha (KnowledgeDistillation applies T² itself). */
  alpha: number;
  /** The training images include unlabelled ones (label -1), which the hard loss skips. */
  unlabelled: boolean;
}

function phaseOf(l: Message): number | undefined {
  const rules = l.include as Message[];
  return rules.length === 1 ? (rules[0]!.phase as number) : undefined;
}

/** A copy of `template` whose TRAIN and TEST Data layers read `sources`. */
export function withSources(template: string, sources: Sources): Message {
  const net = loadNetFile(template).message;
  let seen = 0;
  for (const l of net.layer as Message[]) {
    if (l.type !== 'Data') continue;
    const phase = phaseOf(l);
    if (phase === undefined) throw new KdnetError(`${template}: data layer "${l.name}" must be limited to one phase (include { phase: ... })`);
    l.data_param.source = phase === Phase.TRAIN ? sources.train : sources.test;
    seen |= 1 << phase;
  }
  if (seen !== 3) throw new KdnetError(`${template}: needs a TRAIN and a TEST Data layer`);
  return net;
}

/** The student net; with `distill`, plus the teacher's logits and a KnowledgeDistillation loss. */
export function studentNet(sources: Sources, distill?: DistillSpec): Message {
  const net = withSources(STUDENT_TEMPLATE, sources);
  const hard = studentHardLoss(net.layer as Message[], STUDENT_TEMPLATE);
  if (distill?.unlabelled) {
    hard.loss_param = newMessage('LossParameter', { ignore_label: UNLABELLED, normalization: 1 /* VALID */ });
  }
  if (!distill) return net;
  const trainData = (net.layer as Message[]).find((l) => l.type === 'Data' && phaseOf(l) === Phase.TRAIN)!;
  hard.loss_weight = [distill.alpha];
  const logits = newMessage('LayerParameter', {
    name: 'teacher_logits',
    type: 'Data',
    top: ['teacher_logits'],
    include: [newMessage('NetStateRule', { phase: Phase.TRAIN })],
    data_param: newMessage('DataParameter', { source: distill.logits, batch_size: trainData.data_param.batch_size, backend: 1 /* LMDB */ }),
  });
  const soft = softLossLayer({
    type: 'KnowledgeDistillation',
    name: 'kd_loss',
    student: hard.bottom[0],
    teacher: 'teacher_logits',
    temperature: distill.temperature,
    weight: softLossWeight('KnowledgeDistillation', distill.temperature, 1 - distill.alpha),
    phase: Phase.TRAIN,
  });
  const layers = net.layer as Message[];
  layers.splice(layers.indexOf(trainData) + 1, 0, logits);
  layers.push(soft);
  return net;
}

export interface Schedule {
  iterations: number;
  testIterations: number;
  seed: number;
  /** "SGD": Caffe's LeNet schedule (base_lr 0.01, momentum 0.9, "inv" policy, weight decay 5e-4);
   *  "Adam": Caffe's lenet_solver_adam (base_lr 0.001, fixed), which gets the teacher there in fewer iterations. */
  type: 'SGD' | 'Adam';
}

/** The solver, ending in one test pass and the final snapshot (net and snapshot_prefix are set by trainRun). */
export function solverFor(s: Schedule): Message {
  const rule =
    s.type === 'Adam'
      ? { type: 'Adam', base_lr: 0.001, momentum: 0.9, momentum2: 0.999, delta: 1e-8, lr_policy: 'fixed' }
      : { type: 'SGD', base_lr: 0.01, momentum: 0.9, weight_decay: 0.0005, lr_policy: 'inv', gamma: 0.0001, power: 0.75 };
  return newMessage('SolverParameter', {
    ...rule,
    test_iter: [s.testIterations],
    test_interval: s.iterations,
    test_initialization: false,
    display: Math.max(1, Math.round(s.iterations / 10)),
    max_iter: s.iterations,
    snapshot: 0,
    snapshot_after_train: true,
    random_seed: s.seed,
  });
}
