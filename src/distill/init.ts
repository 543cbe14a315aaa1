// `kdnet distill init`: one training net holding a frozen teacher and the student (online distillation). The
// student's data layers feed both; the teacher keeps its layer names (its weights are copied by name from its
// .caffemodel), so student layers and blobs that collide are renamed with an `s_` prefix.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { newMessage, type Message } from '../proto/schema.js';
import { loadNetFile, loadSolverFile } from '../proto/load.js';
import { printCaffeText } from '../proto/text.js';
import { readCaffemodel } from '../proto/weights.js';
import { filterNet, Phase } from '../net/net-state.js';
import { inferShapes } from '../net/shapes.js';
import { checkError, checkFile, type NetCheck } from '../net/check.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { validateSolver } from '../solvers/validate.js';
import { checkOutDir, dataShapes } from './export.js';
import { hintLayers, requireBlob, type HintSpec } from './hints.js';
import { checkTemperature, softLossLayer, softLossWeight, studentHardLoss, type SoftLossLayer } from './soft-loss.js';


export interface InitOptions {
  teacher: string;
  teacherWeights: string;
  student: string;
  temperature: number;
  alpha: number;
  /** Soft loss weight before the T² convention (default 1 − alpha), for recipes whose weights do not sum to 1 with the hints. */
  softWeight?: number;
  layer?: SoftLossLayer;
  hints?: HintSpec[];
  out: string;
  force?: boolean;
  /** File names `NAME_train_val.prototxt` / `NAME_solver.prototxt` (several compositions in one folder). */
  name?: string;
  /** A solver whose settings (schedule, test passes, seed, ...) the written solver takes instead of generic ones. */
  solver?: string;
  /** snapshot_prefix of the written solver (default: DIR/student, or DIR/NAME_student). */
  snapshotPrefix?: string;
}

export interface InitResult {
  trainVal: string;
  solver: string;
  command: string;
  renamedLayers: Array<[string, string]>;
  renamedBlobs: Array<[string, string]>;
  notes: string[];
  softLossWeight: number;
  /** The solver file whose settings the written solver took, if any. */
  solverFrom?: string;
}

/** Parameter blobs a layer type owns (what `param { lr_mult: 0 }` entries a frozen copy needs). */
function paramBlobCount(l: Message): number {
  const bias = (p: Message | undefined) => (p?.bias_term === false ? 0 : 1);
  switch (l.type) {
    case 'Convolution':
    case 'Deconvolution':
      return 1 + bias(l.convolution_param);
    case 'InnerProduct':
      return 1 + bias(l.inner_product_param);
    case 'Embed':
      return 1 + bias(l.embed_param);
    case 'BatchNorm':
      return 3;
    case 'Scale':
      return 1 + (l.scale_param?.bias_term ? 1 : 0);
    case 'Bias':
    case 'PReLU':
      return 1;
    default:
      return Math.max((l.param as Message[]).length, l.blobs?.length ?? 0);
  }
}

const isData = (l: Message) => (l.bottom as string[]).length === 0;
const isLossOrMetric = (l: Message) => /Loss$/.test(l.type) || l.type === 'Accuracy' || l.type === 'Silence' || l.type === 'KnowledgeDistillation';
const tops = (ls: Message[]) => new Set(ls.flatMap((l) => l.top as string[]));

/** The teacher's compute layers, frozen, rewired onto the student's data blob; with what was dropped and why. */
function freezeTeacher(teacher: Message[], dataBlob: string, studentData: string, logits: string, notes: string[]): Message[] {
  const out: Message[] = [];
  const alias = new Map<string, string>([[dataBlob, studentData]]);
  const dropped: string[] = [];
  for (const l of teacher) {
    // A deploy-style teacher's Softmax on its logits is never read: the soft loss takes the logits.
    if (isData(l) || isLossOrMetric(l) || (l.type === 'Softmax' && (l.bottom as string[])[0] === logits)) {
      dropped.push(l.name);
      continue;
    }
    const bottom = (l.bottom as string[]).map((b) => alias.get(b) ?? b);
    if (l.type === 'Dropout') {
      // Caffe's TRAIN-phase dropout would add noise to the soft targets: the teacher runs without it.
      if ((l.top as string[])[0] !== (l.bottom as string[])[0]) alias.set((l.top as string[])[0]!, bottom[0]!);
      notes.push(`teacher Dropout "${l.name}" removed (in TRAIN phase it would add noise to the soft targets)`);
      continue;
    }
    const count = paramBlobCount(l);
    const existing = l.param as Message[];
    const param = Array.from({ length: count }, (_, i) => newMessage('ParamSpec', { ...(existing[i] ?? {}), lr_mult: 0, decay_mult: 0 }));
    const frozen: Record<string, unknown> = { ...l, bottom, param, include: [], exclude: [] };
    if (l.type === 'BatchNorm') frozen.batch_norm_param = newMessage('BatchNormParameter', { ...(l.batch_norm_param ?? {}), use_global_stats: true });
    out.push(newMessage('LayerParameter', frozen));
  }
  if (dropped.length) notes.push(`teacher data/loss/accuracy/output layers dropped: ${dropped.join(', ')}`);
  return out;
}

/** The student's SoftmaxWithLoss (hard loss) and its logits/label; required. */
/** The teacher's logits: its SoftmaxWithLoss's (or Softmax's) first bottom, else its last layer's top. */
function teacherLogits(teacher: Message[], file: string): string {
  const l = teacher.find((x) => x.type === 'SoftmaxWithLoss') ?? teacher.find((x) => x.type === 'Softmax');
  if (l) return (l.bottom as string[])[0]!;
  const last = [...teacher].reverse().find((x) => !isData(x) && !isLossOrMetric(x));
  if (!last) throw new KdnetError(`${file}: the teacher has no compute layers`);
  return (last.top as string[])[0]!;
}

function renameStudent(student: Message[], teacherNames: Set<string>, teacherBlobs: Set<string>, keepBlobs: Set<string>) {
  const layerMap = new Map<string, string>();
  const blobMap = new Map<string, string>();
  // Layer and blob names are separate namespaces (as in Caffe): a layer and its top keep matching names.
  const fresh = (taken: Set<string>) => (n: string) => {
    let c = `s_${n}`;
    while (taken.has(c)) c = `s_${c}`;
    taken.add(c);
    return c;
  };
  const freshLayer = fresh(new Set([...teacherNames, ...student.map((l) => l.name as string)]));
  const freshBlob = fresh(new Set([...teacherBlobs, ...tops(student)]));
  for (const l of student) if (teacherNames.has(l.name) && !layerMap.has(l.name)) layerMap.set(l.name, freshLayer(l.name));
  for (const b of tops(student)) if (teacherBlobs.has(b) && !keepBlobs.has(b)) blobMap.set(b, freshBlob(b));
  const blob = (b: string) => blobMap.get(b) ?? b;
  const layers = student.map((l) =>
    newMessage('LayerParameter', { ...l, name: layerMap.get(l.name) ?? l.name, bottom: (l.bottom as string[]).map(blob), top: (l.top as string[]).map(blob) }),
  );
  return { layers, layerMap, blobMap };
}

const GENERIC_SOLVER = {
  base_lr: 0.01,
  momentum: 0.9,
  weight_decay: 0.0005,
  lr_policy: 'step',
  gamma: 0.1,
  stepsize: 10000,
  display: 100,
  max_iter: 30000,
  snapshot: 5000,
};

/**
 * The solver for the composed net: the settings of `from` (a solver file) or generic ones, with `net` and
 * `snapshot_prefix` pointing at what init wrote. Paths are kept as the user gave them (relative to the working
 * directory, as Caffe resolves them), so a folder made from the repository root trains from there.
 */
function solverText(net: string, snapshotPrefix: string, hasTest: boolean, from: string | undefined): string {
  const settings = from ? { ...loadSolverFile(from).message } : { ...GENERIC_SOLVER, ...(hasTest ? { test_iter: [100], test_interval: 1000 } : {}) };
  for (const f of ['net', 'net_param', 'train_net', 'train_net_param', 'test_net', 'test_net_param']) delete (settings as Record<string, unknown>)[f];
  // Printed in field-number order, as Caffe's text printer does.
  const solver = newMessage('SolverParameter', { net, ...settings, snapshot_prefix: snapshotPrefix });
  validateSolver(solver);
  const origin = from ? `settings from ${from}` : 'generic settings: edit them to your recipe';
  return `# Written by kdnet distill init (${origin}).\n` + printCaffeText(solver, 'SolverParameter');
}

function validate(o: InitOptions): SoftLossLayer {
  const layer = o.layer ?? 'KnowledgeDistillation';
  if (layer !== 'KnowledgeDistillation' && layer !== 'TempSoftmaxCrossEntropyLoss') throw new KdnetError(`--layer must be KnowledgeDistillation or TempSoftmaxCrossEntropyLoss, got '${layer}'`);
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new KdnetError(`--alpha must be in [0, 1], got ${o.alpha}`);
  if (o.softWeight !== undefined && !(o.softWeight >= 0 && Number.isFinite(o.softWeight))) throw new KdnetError(`--soft-weight must be a number ≥ 0, got ${o.softWeight}`);
  checkTemperature(layer, o.temperature);
  if (o.name !== undefined && !/^[\w.-]+$/.test(o.name)) throw new KdnetError(`--name must be a plain file-name prefix (letters, digits, _ . -), got '${o.name}'`);
  return layer;
}

/** Without --name the folder must be new or empty; with it, only the two files it writes must not exist yet. */
function checkOutFiles(o: InitOptions, files: string[]): void {
  if (o.name === undefined) return checkOutDir(o.out, o.force ?? false);
  if (fs.existsSync(o.out) && !fs.statSync(o.out).isDirectory()) throw new KdnetError(`--out ${o.out} exists and is not a directory`);
  const existing = files.filter((f) => fs.existsSync(f));
  if (existing.length && !o.force) throw new KdnetError(`${existing.join(' and ')} already exist${existing.length > 1 ? '' : 's'}: give --force to overwrite`);
}

export function initDistillation(o: InitOptions): InitResult {
  const layerType = validate(o);
  const prefix = o.name ? `${o.name}_` : '';
  const trainValPath = path.join(o.out, `${prefix}train_val.prototxt`); // as given: the solver's `net`
  const solverPath = path.join(o.out, `${prefix}solver.prototxt`);
  checkOutFiles(o, [trainValPath, solverPath]);
  const teacherAll = loadNetFile(o.teacher).message.layer as Message[];
  const studentAll = loadNetFile(o.student).message.layer as Message[];
  const notes: string[] = [];

  const studentData = studentAll.filter(isData);
  if (!studentData.length) throw new KdnetError(`${o.student}: the student has no data layer to feed both nets`);
  const sDataBlob = (studentData[0]!.top as string[])[0]!;
  const teacherData = teacherAll.find(isData);
  const teacherFirst = teacherAll.find((l) => !isData(l));
  if (!teacherFirst) throw new KdnetError(`${o.teacher}: the teacher has no compute layers`);
  const tDataBlob = teacherData ? (teacherData.top as string[])[0]! : (teacherFirst.bottom as string[])[0]!;
  const tLogits = teacherLogits(teacherAll, o.teacher);
  const teacher = freezeTeacher(teacherAll, tDataBlob, sDataBlob, tLogits, notes);

  // Teacher weights are copied by layer name: every teacher layer with parameters must be in the .caffemodel.
  const stored = readCaffemodel(o.teacherWeights);
  const storedNames = new Set([...(stored.layer as Message[]), ...(stored.layers as Message[])].map((l) => l.name as string));
  const missing = teacher.filter((l) => (l.param as Message[]).length && !storedNames.has(l.name)).map((l) => l.name as string);
  if (missing.length) throw new KdnetError(`${o.teacherWeights} has no weights for the teacher layer${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);

  const teacherBlobs = tops(teacher);
  const keep = tops(studentData);
  const renamed = renameStudent(studentAll, new Set(teacher.map((l) => l.name as string)), teacherBlobs, keep);
  const sBlob = (b: string) => renamed.blobMap.get(b) ?? b;
  const hard = studentHardLoss(renamed.layers, o.student);
  hard.loss_weight = [o.alpha];
  const [sLogits, label] = hard.bottom as string[];
  void label;

  const taken = new Set([...renamed.layers, ...teacher].flatMap((l) => [l.name as string, ...(l.top as string[])]));
  const unique = (n: string) => {
    let c = n;
    for (let i = 2; taken.has(c); i++) c = `${n}_${i}`;
    taken.add(c);
    return c;
  };
  const softWeight = softLossWeight(layerType, o.temperature, o.softWeight ?? 1 - o.alpha);
  const softName = unique('soft_loss');
  const soft = softLossLayer({ type: layerType, name: softName, student: sLogits, teacher: tLogits, temperature: o.temperature, weight: softWeight });

  // Student data first (both phases), then the frozen teacher, then the student's compute layers and the losses.
  const sData = renamed.layers.filter(isData);
  const sRest = renamed.layers.filter((l) => !isData(l));
  const composed = newMessage('NetParameter', { name: 'distill', layer: [...sData, ...teacher, ...sRest, soft] });

  const hints = o.hints ?? [];
  if (hints.length) {
    const train = filterNet(composed, { phase: Phase.TRAIN, level: 0, stage: [] });
    const inputs = (train.layer as Message[]).flatMap((l, i) => (isData(l) ? (l.top as string[]).map((top) => ({ layer: i, top })) : []));
    const perSample = dataShapes(train, inputs, path.dirname(path.resolve(o.student)));
    const known = Object.fromEntries([...perSample].map(([b, s]) => [b, [1, ...s]]));
    const shapes = new Map<string, number[] | undefined>();
    const inferred = inferShapes(train, Phase.TRAIN, known, path.dirname(path.resolve(o.student)));
    (train.layer as Message[]).forEach((l, i) => (l.top as string[]).forEach((t, j) => shapes.set(t, inferred.rows[i]?.tops[j])));
    const studentBlobs = tops(studentAll);
    for (const h of hints) {
      requireBlob(h.teacherBlob, teacherBlobs, 'the teacher', o.teacher);
      requireBlob(h.studentBlob, studentBlobs, 'the student', o.student);
      const s = sBlob(h.studentBlob);
      const sShape = shapes.get(s);
      const tShape = shapes.get(h.teacherBlob);
      if (!sShape || !tShape) throw new KdnetError(`--hint ${h.teacherBlob}:${h.studentBlob}: the blob shapes cannot be inferred (${inferred.errors[0]?.message ?? 'a layer kdnet cannot set up'})`);
      const added = hintLayers(h, s, h.teacherBlob, sShape, tShape, unique);
      (composed.layer as Message[]).push(...added);
      notes.push(`hint ${h.teacherBlob} ← ${s}: ${added.map((l) => `${l.type} "${l.name}"`).join(' → ')} (weight ${h.weight}; no gradient into the teacher)`);
    }
  }

  const trainVal = path.resolve(trainValPath);
  const solver = path.resolve(solverPath);
  // The solver is made (and checked) first: a bad --solver leaves nothing written.
  const hasTest = studentData.some((l) => (l.include as Message[]).some((r) => r.phase === Phase.TEST));
  const solverContent = solverText(trainValPath, o.snapshotPrefix ?? path.join(o.out, `${prefix}student`), hasTest, o.solver);
  fs.mkdirSync(o.out, { recursive: true });
  const header = `# Composed by kdnet distill init: teacher ${o.teacher} (frozen, weights from ${o.teacherWeights}), student ${o.student}.\n`;
  writeFileAtomic(trainVal, header + printCaffeText(composed, 'NetParameter'));
  const problem = checkError(checkFile(trainVal) as NetCheck);
  if (problem) throw new KdnetError(`the composed net ${trainVal} does not check clean: ${problem.message}`);
  writeFileAtomic(solver, solverContent);
  if (softWeight === 0) notes.push('the soft loss has weight 0 (the teacher only runs)');
  return {
    trainVal,
    solver,
    command: `kdnet train ${solverPath} --weights ${o.teacherWeights}`,
    renamedLayers: [...renamed.layerMap],
    renamedBlobs: [...renamed.blobMap],
    notes,
    softLossWeight: softWeight,
    solverFrom: o.solver,
  };
}

export function formatInit(r: InitResult): string {
  const lines = [
    `wrote ${r.trainVal}`,
    `wrote ${r.solver}`,
    'teacher layers keep their names (their weights are copied by name from the teacher .caffemodel) and are frozen (lr_mult 0)',
    ...r.renamedLayers.map(([a, b]) => `student layer "${a}" renamed "${b}" (its name is a teacher layer's)`),
    ...r.renamedBlobs.map(([a, b]) => `student blob '${a}' renamed '${b}' (its name is a teacher blob's)`),
    ...r.notes,
    `soft loss weight ${r.softLossWeight}`,
    ...(r.solverFrom ? [`the solver takes its settings from ${r.solverFrom}`] : ['the solver has generic settings (base_lr 0.01, step policy, max_iter 30000): edit them to your recipe']),
    'train it with:',
    `  ${r.command}`,
  ];
  return lines.join('\n') + '\n';
}
