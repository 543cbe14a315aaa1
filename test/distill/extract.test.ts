// kdnet extract as a library call: the written values are the teacher's own forward (softmax(z/T) or the
// logits) under the source's keys, in its order, for every output format and both source backends.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/select.js';
import { hdf5Ready, readHdf5, readHdf5Datasets } from '../../src/data/hdf5-file.js';
import { openDbReader } from '../../src/data/db/index.js';
import { decodeDatum } from '../../src/data/datum.js';
import { extractSoftTargets } from '../../src/distill/extract.js';
import { setLogSink } from '../../src/log.js';
import { tempDir, writePngs } from '../support/data.js';
import { writeH5 } from '../support/h5.js';
import { CLASSES, RECORDS, softmaxT, teacherRows, teacherText, writeSource, writeTeacherWeights } from '../support/teacher.js';

const dir = tempDir('kdnet-extract-');
const lmdbSource = path.join(dir, 'src_lmdb');
const levelSource = path.join(dir, 'src_leveldb');
const lmdbTeacher = path.join(dir, 'teacher_lmdb.prototxt');
const levelTeacher = path.join(dir, 'teacher_leveldb.prototxt');
const w1 = path.join(dir, 'w1.caffemodel');
const w2 = path.join(dir, 'w2.caffemodel');
let logits1: number[][] = [];
let logits2: number[][] = [];
let sourceKeys: string[] = [];

interface Stored {
  keys: string[];
  labels: number[];
  rows: number[][];
}

/** What a database holds, read with the plain reader and Datum decoder. */
async function readDb(db: string): Promise<Stored> {
  const r = await openDbReader(db);
  const out: Stored = { keys: [], labels: [], rows: [] };
  for await (const { key, value } of r.records()) {
    const d = decodeDatum(value, key.toString());
    expect([d.height, d.width, d.data.length]).toEqual([1, 1, 0]);
    expect(d.float_data).toHaveLength(d.channels);
    out.keys.push(key.toString());
    out.labels.push(d.label);
    out.rows.push(d.float_data);
  }
  await r.close();
  return out;
}

function readH5(file: string): Stored {
  const sets = readHdf5Datasets(file, ['data', 'label'], 'test');
  const data = sets.get('data')!;
  expect(data.shape).toEqual([RECORDS, CLASSES]);
  const keys = readHdf5(file, (root) => Array.from((root.get('keys') as { value: string[] }).value), 'test');
  const rows = Array.from({ length: data.shape[0]! }, (_, i) => Array.from(data.data.subarray(i * CLASSES, (i + 1) * CLASSES)));
  return { keys, labels: Array.from(sets.get('label')!.data), rows };
}

function maxDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - b[i]![j]!))));
}

beforeAll(async () => {
  await initBackend('cpu', true);
  await hdf5Ready();
  setLogSink(() => {});
  await writeSource(lmdbSource, 'lmdb');
  await writeSource(levelSource, 'leveldb');
  fs.writeFileSync(lmdbTeacher, teacherText(lmdbSource, 'LMDB'));
  fs.writeFileSync(levelTeacher, teacherText(levelSource, 'LEVELDB'));
  writeTeacherWeights(w1, 11);
  writeTeacherWeights(w2, 12);
  logits1 = teacherRows(lmdbTeacher, [w1]);
  logits2 = teacherRows(lmdbTeacher, [w2]);
  sourceKeys = Array.from({ length: RECORDS }, (_, i) => String(i).padStart(8, '0'));
});

describe('kdnet extract', () => {
  it('the reference is not trivial: 10 records, distinct logits per record and per teacher', () => {
    expect(logits1).toHaveLength(RECORDS);
    expect(new Set(logits1.map((r) => r.join(','))).size).toBe(RECORDS);
    expect(maxDiff(logits1, logits2)).toBeGreaterThan(0.1);
  });

  for (const [format, teacher] of [
    ['lmdb', lmdbTeacher],
    ['leveldb', levelTeacher],
    ['hdf5', lmdbTeacher],
  ] as const) {
    it(`softmax(z/T) of the teacher's forward into ${format}, keys and labels of the source in its order (10 records, batch 4)`, async () => {
      const out = path.join(dir, `soft_T4_${format}${format === 'hdf5' ? '.h5' : ''}`);
      const r = await extractSoftTargets({ teachers: [{ model: teacher, weights: [w1] }], blob: 'fc', out, temperature: 4, format });
      expect(r.meta).toMatchObject({ shard: { index: 0, count: 1 }, records: { start: 0, end: RECORDS, total: RECORDS }, dim: CLASSES, values: { kind: 'softmax', temperature: 4 } });
      const got = format === 'hdf5' ? readH5(out) : await readDb(out);
      expect(got.keys).toEqual(sourceKeys);
      expect(got.labels).toEqual(sourceKeys.map((_, i) => i % CLASSES));
      expect(maxDiff(got.rows, logits1.map((z) => softmaxT(z, 4)))).toBeLessThanOrEqual(1e-6);
      got.rows.forEach((p) => expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6));
    });
  }

  it('--logits writes the raw logits; the default temperature is 1', async () => {
    const out = path.join(dir, 'logits_lmdb');
    await extractSoftTargets({ teachers: [{ model: lmdbTeacher, weights: [w1] }], blob: 'fc', out, logits: true });
    expect(maxDiff((await readDb(out)).rows, logits1)).toBeLessThanOrEqual(1e-6);
    const plain = path.join(dir, 'softmax_lmdb');
    const r = await extractSoftTargets({ teachers: [{ model: lmdbTeacher, weights: [w1] }], blob: 'fc', out: plain });
    expect(r.meta.values).toEqual({ kind: 'softmax', temperature: 1 });
    expect(maxDiff((await readDb(plain)).rows, logits1.map((z) => softmaxT(z, 1)))).toBeLessThanOrEqual(1e-6);
  });

  it('an ensemble averages the teachers\' logits, then softens the mean', async () => {
    const mean = logits1.map((r, i) => r.map((v, j) => (v + logits2[i]![j]!) / 2));
    const teachers = [w1, w2].map((w) => ({ model: lmdbTeacher, weights: [w] }));
    const logits = path.join(dir, 'ensemble_logits_lmdb');
    const r = await extractSoftTargets({ teachers, blob: 'fc', out: logits, logits: true });
    expect(r.meta.teachers).toHaveLength(2);
    expect(maxDiff((await readDb(logits)).rows, mean)).toBeLessThanOrEqual(1e-6);
    const soft = path.join(dir, 'ensemble_T3_lmdb');
    await extractSoftTargets({ teachers, blob: 'fc', out: soft, temperature: 3 });
    expect(maxDiff((await readDb(soft)).rows, mean.map((z) => softmaxT(z, 3)))).toBeLessThanOrEqual(1e-6);
  });

  it('an N×D×1×1 blob is read as N×D', async () => {
    const teacher = path.join(dir, 'teacher_4d.prototxt');
    fs.writeFileSync(teacher, teacherText(lmdbSource, 'LMDB') + '\nlayer { name: "fc4d" type: "Reshape" bottom: "fc" top: "fc4d" reshape_param { shape { dim: 0 dim: -1 dim: 1 dim: 1 } } }\n');
    const out = path.join(dir, 'fc4d_lmdb');
    const r = await extractSoftTargets({ teachers: [{ model: teacher, weights: [w1] }], blob: 'fc4d', out, logits: true });
    expect(r.meta.dim).toBe(CLASSES);
    expect(maxDiff((await readDb(out)).rows, logits1)).toBeLessThanOrEqual(1e-6);
  });

  it('the batch size does not matter: batch 3 and batch 1 give the same values', async () => {
    for (const batch of [3, 1]) {
      const teacher = path.join(dir, `teacher_b${batch}.prototxt`);
      fs.writeFileSync(teacher, teacherText(lmdbSource, 'LMDB', batch));
      const out = path.join(dir, `b${batch}_lmdb`);
      await extractSoftTargets({ teachers: [{ model: teacher, weights: [w1] }], blob: 'fc', out, logits: true });
      const got = await readDb(out);
      expect(got.keys).toEqual(sourceKeys);
      expect(maxDiff(got.rows, logits1)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('--phase TRAIN takes the TRAIN data layer but computes and transforms as in TEST: no mirror, central crop, no dropout', async () => {
    const teacher = path.join(dir, 'teacher_train_phase.prototxt');
    const text = teacherText(lmdbSource, 'LMDB')
      .replace('data_param { source: "/nonexistent/train_lmdb" backend: LMDB batch_size: 64 }', `transform_param { crop_size: 3 mirror: true mean_value: 100 scale: 0.02 } data_param { source: "${levelSource}" backend: LEVELDB batch_size: 5 }`)
      .replace('layer { name: "relu1"', 'layer { name: "drop" type: "Dropout" bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.5 } }\nlayer { name: "relu1"');
    fs.writeFileSync(teacher, text);
    const out = path.join(dir, 'train_phase_lmdb');
    const r = await extractSoftTargets({ teachers: [{ model: teacher, weights: [w1] }], blob: 'fc', out, logits: true, phase: 0 });
    expect(r.meta.source).toBe(`LevelDB ${levelSource}`);
    expect(maxDiff((await readDb(out)).rows, logits1)).toBeLessThanOrEqual(1e-6);
  });

  it('ImageData sources: the list in order, keyed %08d_path like convert_imageset', async () => {
    const images = path.join(dir, 'images');
    fs.mkdirSync(images);
    await writePngs(images, RECORDS, 1, 5, 5);
    fs.writeFileSync(path.join(images, 'list.txt'), sourceKeys.map((_, i) => `img${i}.png ${i % CLASSES}`).join('\n') + '\n');
    const teacher = path.join(dir, 'teacher_images.prototxt');
    fs.writeFileSync(
      teacher,
      teacherText('', 'LMDB').replace(
        /layer \{ name: "data" type: "Data" top: "data" top: "label" include \{ phase: TEST \}[^]*?data_param \{[^}]*\} \}/,
        `layer { name: "data" type: "ImageData" top: "data" top: "label" include { phase: TEST } transform_param { crop_size: 3 mean_value: 100 scale: 0.02 }
          image_data_param { source: "${images}/list.txt" root_folder: "${images}/" is_color: false shuffle: true batch_size: 4 } }`,
      ),
    );
    const out = path.join(dir, 'images_logits_lmdb');
    await extractSoftTargets({ teachers: [{ model: teacher, weights: [w1] }], blob: 'fc', out, logits: true });
    const got = await readDb(out);
    expect(got.keys).toEqual(sourceKeys.map((k, i) => `${k}_img${i}.png`));
    expect(got.labels).toEqual(sourceKeys.map((_, i) => i % CLASSES));
    // The same pixels as the database records, so the same logits as through the Data layer.
    expect(maxDiff(got.rows, logits1)).toBeLessThanOrEqual(1e-6);
  });

  it('HDF5Data sources: rows of the listed files in order, keyed %08d, N×D rows fed as N×D', async () => {
    const rows = Array.from({ length: RECORDS }, (_, i) => Array.from({ length: 9 }, (_, j) => Math.fround(Math.sin(i * 9 + j))));
    const files = [path.join(dir, 'a.h5'), path.join(dir, 'b.h5')];
    await writeH5(files[0]!, { data: { data: Float32Array.from(rows.slice(0, 6).flat()), shape: [6, 9] }, label: { data: Float32Array.of(0, 1, 2, 0, 1, 2), shape: [6] } });
    await writeH5(files[1]!, { data: { data: Float32Array.from(rows.slice(6).flat()), shape: [4, 9] }, label: { data: Float32Array.of(0, 1, 2, 0), shape: [4] } });
    fs.writeFileSync(path.join(dir, 'h5list.txt'), files.join('\n') + '\n');
    const teacher = path.join(dir, 'teacher_h5.prototxt');
    fs.writeFileSync(
      teacher,
      teacherText('', 'LMDB').replace(
        /layer \{ name: "data" type: "Data" top: "data" top: "label" include \{ phase: TEST \}[^]*?data_param \{[^}]*\} \}/,
        `layer { name: "data" type: "HDF5Data" top: "data" top: "label" include { phase: TEST } hdf5_data_param { source: "${dir}/h5list.txt" batch_size: 4 } }`,
      ),
    );
    const out = path.join(dir, 'h5_logits.h5');
    await extractSoftTargets({ teachers: [{ model: teacher, weights: [w1] }], blob: 'fc', out, logits: true });
    const got = readH5(out);
    expect(got.keys).toEqual(sourceKeys);
    expect(got.labels).toEqual(sourceKeys.map((_, i) => i % CLASSES));
    expect(maxDiff(got.rows, teacherRows(teacher, [w1]))).toBeLessThanOrEqual(1e-6);
  });

  it('an abort stops between batches and leaves nothing behind', async () => {
    const out = path.join(dir, 'aborted_lmdb');
    const controller = new AbortController();
    const before = fs.readdirSync(dir).sort();
    await expect(
      extractSoftTargets({
        teachers: [{ model: lmdbTeacher, weights: [w1] }],
        blob: 'fc',
        out,
        signal: controller.signal,
        progress: (done) => done >= 4 && controller.abort(),
      }),
    ).rejects.toThrow(`interrupted: nothing was written to ${out}`);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });
});
