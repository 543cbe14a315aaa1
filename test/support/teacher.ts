// A tiny teacher for the extraction tests: 1×5×5 records (crop 3, mean, scale), two InnerProducts giving
// 3 logits, a Softmax and an Accuracy; weight files from seeded fillers; the teacher's own forward through
// its Data layer as the reference.
import path from 'node:path';
import { Net } from '../../src/net/net.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { loadNetFile } from '../../src/proto/load.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { loadWeightsInto, writeCaffemodel } from '../../src/proto/weights.js';
import type { Backend } from '../../src/data/db/index.js';
import { pixels, writeDatums } from './data.js';

export const RECORDS = 10;
export const BATCH = 4;
export const CLASSES = 3;

const layers = `
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" inner_product_param { num_output: 6 weight_filler { type: "gaussian" std: 0.6 } bias_filler { type: "gaussian" std: 0.5 } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "fc" type: "InnerProduct" bottom: "ip1" top: "fc" inner_product_param { num_output: ${CLASSES} weight_filler { type: "gaussian" std: 1 } bias_filler { type: "gaussian" std: 1 } } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
layer { name: "accuracy" type: "Accuracy" bottom: "fc" bottom: "label" top: "accuracy" }`;

/** The teacher's net: its Data layer reads `source` in TEST (a TRAIN one reads elsewhere). */
export function teacherText(source: string, backend: 'LMDB' | 'LEVELDB', batch = BATCH): string {
  return `name: "teacher"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  data_param { source: "/nonexistent/train_lmdb" backend: LMDB batch_size: 64 } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { crop_size: 3 mean_value: 100 scale: 0.02 }
  data_param { source: "${source}" backend: ${backend} batch_size: ${batch} } }
${layers}`;
}

/** Source records: 1×5×5 pixels, label i mod 3. */
export async function writeSource(db: string, backend: Backend, n = RECORDS): Promise<void> {
  await writeDatums(db, backend, Array.from({ length: n }, (_, i) => ({ channels: 1, height: 5, width: 5, data: pixels(i, 1, 5, 5), label: i % CLASSES })));
}

/** A weights file for the teacher from its fillers under `seed`. */
export function writeTeacherWeights(file: string, seed: number): void {
  const deploy = `name: "teacher"
layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 1 dim: 1 dim: 3 dim: 3 } shape { dim: 1 } } }
${layers}`;
  const net = new Net(parseCaffeText(deploy, 'NetParameter', 'deploy.prototxt').message, { phase: Phase.TEST, seed });
  try {
    writeCaffemodel(net, file);
  } finally {
    net.dispose();
  }
}

/** The teacher's own forward over the first `n` records, through its Data layer: `blob` rows in record order. */
export function teacherRows(teacherFile: string, weights: string[], n = RECORDS, blob = 'fc'): number[][] {
  const param = filterNet(loadNetFile(teacherFile).message, { phase: Phase.TEST, level: 0, stage: [] });
  const net = new Net(param, { phase: Phase.TEST, baseDir: path.dirname(teacherFile) });
  try {
    loadWeightsInto(net, weights);
    const rows: number[][] = [];
    while (rows.length < n) {
      net.forward();
      const shape = net.blobShape(blob)!;
      const v = net.blob(blob).dataSync();
      const dim = v.length / shape[0]!;
      for (let i = 0; i < shape[0]! && rows.length < n; i++) rows.push(Array.from(v.subarray(i * dim, (i + 1) * dim)));
    }
    return rows;
  } finally {
    net.dispose();
  }
}

/** softmax(z/T) per row, in double precision. */
export function softmaxT(z: number[], t: number): number[] {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
