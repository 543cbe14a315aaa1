// `kdnet demo`: the distillation experiment end to end on Fashion-MNIST. A LeNet teacher learns from every
// training label; a small MLP student gets only a few labelled images and is trained alone and distilled from
// the teacher's logits (KnowledgeDistillation, hard weight alpha, soft weight 1 − alpha at temperature T),
// over several seeds, in each chosen regime:
//   labelled  soft targets on the labelled images only (Hinton's regulariser);
//   transfer  soft targets on every training image, the unlabelled ones as a transfer set;
//   all       the student gets every label too (full data), alone and distilled.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { extractSoftTargets } from '../distill/extract.js';
import { checkTemperature } from '../distill/soft-loss.js';
import { printCaffeText } from '../proto/text.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { buildDemoData, type DemoData } from './data.js';
import { solverFor, studentNet, withSources, TEACHER_TEMPLATE, type DistillSpec } from './nets.js';
import { runFiles, trainRun, withLogFile, type RunResult } from './train-run.js';

export const REGIMES = ['labelled', 'transfer', 'all'] as const;
export type Regime = (typeof REGIMES)[number];

export interface DemoOptions {
  out: string;
  full?: boolean;
  labelled: number;
  seeds: number;
  regimes: Regime[];
  temperature: number;
  alpha: number;
  teacherIterations: number;
  studentIterations: number;
  /** Stage name, work done, work total: for a progress bar. */
  progress?: (stage: string, done: number, total: number) => void;
  /** Ctrl-C: the running training stops (as `kdnet train` does, with a snapshot) and the demo ends there. */
  signal?: AbortSignal;
}

/** One trained model of the table: a student variant over seeds, or the teacher (one seed). */
export interface ModelRuns {
  key: string;
  label: string;
  runs: RunResult[];
}

export interface DemoRuns {
  data: DemoData;
  teacher: ModelRuns;
  students: ModelRuns[];
}

function checkOptions(o: DemoOptions): void {
  const whole = (v: number, name: string) => {
    if (!(Number.isInteger(v) && v > 0)) throw new KdnetError(`${name} must be a positive whole number, got ${v}`);
  };
  whole(o.seeds, '--seeds');
  whole(o.teacherIterations, '--teacher-iterations');
  whole(o.studentIterations, '--student-iterations');
  checkTemperature('KnowledgeDistillation', o.temperature);
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new KdnetError(`--alpha must be between 0 and 1, got ${o.alpha}`);
  if (!o.regimes.length) throw new KdnetError(`--regimes needs at least one of ${REGIMES.join(', ')}`);
}

function checkInterrupt(o: DemoOptions, stage: string): void {
  if (o.signal?.aborted) throw new KdnetError(`kdnet demo interrupted during ${stage}; what it wrote so far is in ${o.out}`);
}

export async function runDemo(o: DemoOptions): Promise<DemoRuns> {
  checkOptions(o);
  fs.mkdirSync(o.out, { recursive: true });
  const data = await buildDemoData({ dir: path.join(o.out, 'data'), full: o.full, labelled: o.labelled, progress: (d, t) => o.progress?.('data', d, t) });
  const db = data.databases;
  const testIterations = Math.ceil(data.counts.test / 100);

  // The teacher learns from every label.
  const teacherRun = await trainRun({
    files: runFiles(o.out, 'teacher', o.teacherIterations),
    net: withSources(TEACHER_TEMPLATE, { train: db.train, test: db.test }),
    solver: solverFor({ iterations: o.teacherIterations, testIterations, type: 'Adam', seed: 1 }),
    onProgress: (i, n) => o.progress?.('teacher', i, n),
  });
  checkInterrupt(o, 'the teacher');

  // Its logits, once per database a distilled student reads (record for record beside the images).
  const logitsOf = new Map<string, string>();
  const logits = async (images: string): Promise<string> => {
    const known = logitsOf.get(images);
    if (known) return known;
    const name = path.basename(images).replace(/_lmdb$/, '');
    const net = path.join(o.out, 'nets', `teacher_on_${name}.prototxt`);
    writeFileAtomic(net, printCaffeText(withSources(TEACHER_TEMPLATE, { train: images, test: db.test }), 'NetParameter'));
    const out = path.join(o.out, 'data', `${name}_teacher_logits_lmdb`);
    await withLogFile(path.join(o.out, 'logs', `teacher_logits_${name}.log`), () =>
      extractSoftTargets({ teachers: [{ model: net, weights: [teacherRun.weights] }], blob: 'ip2', logits: true, out, phase: 0, force: true, signal: o.signal, progress: (d, t) => o.progress?.(`teacher logits (${name})`, d, t) }),
    );
    logitsOf.set(images, out);
    return out;
  };

  // The transfer set holds the training images in the training set's order and keys (unlabelled ones marked
  // -1), so the teacher's logits over the training set serve both.
  const variants: Array<{ key: string; label: string; images: string; logitsOf?: string; distill?: Omit<DistillSpec, 'logits'> }> = [];
  const kd = (unlabelled: boolean) => ({ temperature: o.temperature, alpha: o.alpha, unlabelled });
  const n = data.counts.labelled.toLocaleString('en-US');
  const all = data.counts.train.toLocaleString('en-US');
  if (o.regimes.includes('labelled') || o.regimes.includes('transfer')) variants.push({ key: 'student', label: `student alone (${n} labels)`, images: db.labelled });
  if (o.regimes.includes('labelled')) variants.push({ key: 'student_kd', label: `student + KD, soft targets on the ${n} labelled images`, images: db.labelled, distill: kd(false) });
  if (o.regimes.includes('transfer')) variants.push({ key: 'student_kd_transfer', label: `student + KD, ${all} images as transfer set (${n} labels)`, images: db.transfer, logitsOf: db.train, distill: kd(true) });
  if (o.regimes.includes('all')) {
    variants.push({ key: 'student_all', label: `student alone (all ${all} labels)`, images: db.train });
    variants.push({ key: 'student_kd_all', label: `student + KD (all ${all} labels)`, images: db.train, distill: kd(false) });
  }

  const students: ModelRuns[] = [];
  for (const v of variants) {
    const runs: RunResult[] = [];
    const logitsDb = v.distill ? await logits(v.logitsOf ?? v.images) : undefined;
    for (let seed = 1; seed <= o.seeds; seed++) {
      const net = studentNet({ train: v.images, test: db.test }, v.distill && { ...v.distill, logits: logitsDb! });
      runs.push(
        await trainRun({
          files: runFiles(o.out, `${v.key}_seed${seed}`, o.studentIterations),
          net,
          solver: solverFor({ iterations: o.studentIterations, testIterations, type: 'SGD', seed }),
          onProgress: (i, total) => o.progress?.(`${v.key} seed ${seed}/${o.seeds}`, i, total),
        }),
      );
      checkInterrupt(o, `${v.key} seed ${seed}`);
    }
    students.push({ key: v.key, label: v.label, runs });
  }
  return { data, teacher: { key: 'teacher', label: `teacher, LeNet (all ${all} labels)`, runs: [teacherRun] }, students };
}
