// Shared by the distill tests: tiny LMDBs (4×4 images of four classes, soft targets as float vectors), the
// old recipes as their authors wrote them, and a few-iteration training run through the library's Solver.
import fs from 'node:fs';
import path from 'node:path';
import { netFromText, writeDatums } from '../support/data.js';
import { Phase } from '../../src/net/net-state.js';
import { writeCaffemodel } from '../../src/proto/weights.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { Solver } from '../../src/solvers/solver.js';
import { setLogSink } from '../../src/log.js';

export const CLASSES = 4;
export const RECORDS = 32;
export const T = 4;

/** Image i: a bright quadrant for its class (i mod 4) over a faint texture, 1×4×4 bytes. */
export function image(i: number): Uint8Array {
  const label = i % CLASSES;
  return Uint8Array.from({ length: 16 }, (_, k) => {
    const [y, x] = [Math.floor(k / 4), k % 4];
    const quadrant = (y >> 1) * 2 + (x >> 1);
    return (quadrant === label ? 200 : 20) + ((i * 7 + k * 3) % 23);
  });
}

/** A made-up teacher's logits for record i: confident on its class, with some structure among the others. */
export function teacherLogits(i: number): number[] {
  return Array.from({ length: CLASSES }, (_, c) => (c === i % CLASSES ? 6 : ((c * 3 + i) % 5) - 2));
}

export function softmaxAt(z: number[], t: number): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp((v - m) / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** train_lmdb (images and labels), soft_probs_lmdb (teacher softmax at T), soft_logits_lmdb (teacher logits). */
export async function writeDatabases(dir: string): Promise<void> {
  const floats = (v: number[]) => ({ channels: v.length, height: 1, width: 1, float_data: v, label: 0 });
  const ids = Array.from({ length: RECORDS }, (_, i) => i);
  await writeDatums(path.join(dir, 'train_lmdb'), 'lmdb', ids.map((i) => ({ channels: 1, height: 4, width: 4, data: image(i), label: i % CLASSES })));
  await writeDatums(path.join(dir, 'soft_probs_lmdb'), 'lmdb', ids.map((i) => floats(softmaxAt(teacherLogits(i), T))));
  await writeDatums(path.join(dir, 'soft_logits_lmdb'), 'lmdb', ids.map((i) => floats(teacherLogits(i))));
}

/**
 * What `kdnet distill init` reads, written into `dir`: an 8-record LMDB (`lmdb`), teacher.prototxt with its
 * teacher.caffemodel (filled with seed 7), and student.prototxt reading that LMDB.
 */
export async function writeTeacherAndStudent(dir: string, teacherText: string, studentText: (source: string) => string): Promise<void> {
  const lmdb = path.join(dir, 'lmdb');
  await writeDatums(lmdb, 'lmdb', Array.from({ length: 8 }, (_, i) => ({ channels: 1, height: 4, width: 4, data: image(i), label: i % CLASSES })));
  fs.writeFileSync(path.join(dir, 'teacher.prototxt'), teacherText);
  fs.writeFileSync(path.join(dir, 'student.prototxt'), studentText(lmdb));
  const teacher = netFromText(teacherText, Phase.TEST, 7);
  try {
    writeCaffemodel(teacher, path.join(dir, 'teacher.caffemodel'));
  } finally {
    teacher.dispose();
  }
}

/** Recipe 1: the 2015 caffe-users net (V1), teacher and student together, CROSS_ENTROPY_LOSS. */
export const caffeUsersRecipe = (dir: string) => `name: "distill_mlp"
layers { name: "data" type: DATA top: "data" top: "label" include { phase: TRAIN }
  data_param { source: "${dir}/train_lmdb" backend: LMDB batch_size: 8 scale: 0.00390625 } }
# teacher (its weights come from the teacher's .caffemodel)
layers { name: "t_ip1" type: INNER_PRODUCT bottom: "data" top: "t_ip1" blobs_lr: 0 blobs_lr: 0
  inner_product_param { num_output: 12 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "constant" value: 0.1 } } }
layers { name: "t_relu1" type: RELU bottom: "t_ip1" top: "t_ip1" }
layers { name: "t_ip2" type: INNER_PRODUCT bottom: "t_ip1" top: "t_ip2"
  inner_product_param { num_output: ${CLASSES} weight_filler { type: "gaussian" std: 0.5 } } }
layers { name: "t_temp" type: POWER bottom: "t_ip2" top: "t_ip2_T" power_param { power: 1 scale: 0.25 shift: 0 } }
layers { name: "soft_labels" type: SOFTMAX bottom: "t_ip2_T" top: "soft_labels" }
# student
layers { name: "s_ip1" type: INNER_PRODUCT bottom: "data" top: "s_ip1" blobs_lr: 1 blobs_lr: 2
  inner_product_param { num_output: 8 weight_filler { type: "xavier" } } }
layers { name: "s_relu1" type: RELU bottom: "s_ip1" top: "s_ip1" }
layers { name: "s_ip2" type: INNER_PRODUCT bottom: "s_ip1" top: "s_ip2" blobs_lr: 1 blobs_lr: 2
  inner_product_param { num_output: ${CLASSES} weight_filler { type: "xavier" } } }
layers { name: "s_temp" type: POWER bottom: "s_ip2" top: "s_ip2_T" power_param { power: 1 scale: 0.25 shift: 0 } }
layers { name: "s_soft" type: SOFTMAX bottom: "s_ip2_T" top: "s_soft" }
layers { name: "kd_loss" type: CROSS_ENTROPY_LOSS bottom: "s_soft" bottom: "soft_labels" top: "kd_loss" loss_weight: 0.9 }
layers { name: "hard_loss" type: SOFTMAX_LOSS bottom: "s_ip2" bottom: "label" top: "hard_loss" loss_weight: 0.1 }
`;

/** Recipe 2: Power-scaled student logits, SIGMOID_CROSS_ENTROPY_LOSS against a second database (V1). */
export const sigmoidRecipe = (dir: string) => `name: "distill_soft_db"
layers { name: "data" type: DATA top: "data" top: "label"
  data_param { source: "${dir}/train_lmdb" backend: LMDB batch_size: 8 scale: 0.00390625 } }
layers { name: "soft" type: DATA top: "soft_targets" data_param { source: "${dir}/soft_probs_lmdb" backend: LMDB batch_size: 8 } }
layers { name: "ip1" type: INNER_PRODUCT bottom: "data" top: "ip1" inner_product_param { num_output: 8 weight_filler { type: "xavier" } } }
layers { name: "relu1" type: RELU bottom: "ip1" top: "ip1" }
layers { name: "ip2" type: INNER_PRODUCT bottom: "ip1" top: "ip2" inner_product_param { num_output: ${CLASSES} weight_filler { type: "xavier" } } }
layers { name: "temp" type: POWER bottom: "ip2" top: "ip2_T" power_param { power: 1 scale: 0.25 shift: 0 } }
layers { name: "soft_loss" type: SIGMOID_CROSS_ENTROPY_LOSS bottom: "ip2_T" bottom: "soft_targets" top: "soft_loss" loss_weight: 2 }
layers { name: "hard_loss" type: SOFTMAX_LOSS bottom: "ip2" bottom: "label" top: "hard_loss" }
`;

/** Recipe 3: kdistil (PR #4378): MVN (mean only) + TempSoftmaxCrossEntropyLoss, teacher logits from convert_vectors. */
export const kdistilRecipe = (dir: string, mvn = 'normalize_variance: false across_channels: true') => `name: "kdistil_mlp"
layer { name: "data" type: "Data" top: "data" top: "label" transform_param { scale: 0.00390625 }
  data_param { source: "${dir}/train_lmdb" backend: LMDB batch_size: 8 } }
layer { name: "soft" type: "Data" top: "soft_targets" data_param { source: "${dir}/soft_logits_lmdb" backend: LMDB batch_size: 8 } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" inner_product_param { num_output: 8 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: ${CLASSES} weight_filler { type: "xavier" } } }
layer { name: "ip2_mvn" type: "MVN" bottom: "ip2" top: "ip2_mvn" mvn_param { ${mvn} } }
layer { name: "soft_loss" type: "TempSoftmaxCrossEntropyLoss" bottom: "ip2_mvn" bottom: "soft_targets" top: "soft_loss"
  loss_weight: 16 tempsoftmax_param { temperature: 4 } }
layer { name: "hard_loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "hard_loss" }
`;

export interface Trained {
  losses: number[];
  /** Every parameter blob of the named layers, before and after. */
  before: Map<string, number[][]>;
  after: Map<string, number[][]>;
}

/** Trains the net file `net` for `iters` iterations of SGD; records each iteration's loss and the given layers' blobs. */
export async function train(dir: string, net: string, iters: number, watch: string[], baseLr = 0.05): Promise<Trained> {
  const restore = setLogSink(() => {});
  const solver = new Solver(
    parseCaffeText(`net: "${net}" base_lr: ${baseLr} momentum: 0.9 weight_decay: 0.001 lr_policy: "fixed" max_iter: ${iters} display: 1 random_seed: 5 snapshot_prefix: "${dir}/snap"`, 'SolverParameter').message,
    { baseDir: dir },
  );
  const blobs = () => new Map(watch.map((name) => [name, solver.net.layer(name).blobs.map((b) => Array.from(b.dataSync()))]));
  try {
    const losses: number[] = [];
    solver.events.onDisplay = (e) => losses.push(e.loss);
    const before = blobs();
    await solver.step(iters);
    return { losses, before, after: blobs() };
  } finally {
    setLogSink(restore);
    solver.dispose();
  }
}

export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}
