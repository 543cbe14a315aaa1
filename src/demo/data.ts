// The demo's data: Fashion-MNIST (the shipped subset, or the whole set) split the way the distillation
// experiment needs it, written as Caffe LMDBs of uint8 Datums (1×28×28, keys %08d) that the nets read with
// Data layers:
//   train      every training image with its label (the teacher's data), shuffled once;
//   labelled   a class-balanced sample of `labelled` of them: all the labels the student may see;
//   transfer   every training image, the labelled ones with their label and the rest with label -1 (ignored
//              by the hard loss): the unlabelled transfer set the teacher's soft targets cover;
//   test       the test images.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { readIdx, type IdxArray } from '../data/idx.js';
import { encodeDatum } from '../data/datum.js';
import { recordKey } from '../data/db/index.js';
import { writeDatabase, type Progress } from '../data/tools/write-records.js';
import { fashionMnistSource, idxPath } from '../data/fashion-mnist.js';
import { Rng } from '../util/rng.js';

/** Label of the transfer set's unlabelled images; the students' hard loss has it as ignore_label. */
export const UNLABELLED = -1;

export interface DemoData {
  source: string;
  dir: string;
  classes: number;
  databases: { train: string; labelled: string; transfer: string; test: string };
  counts: { train: number; labelled: number; test: number };
}

export interface DemoDataOptions {
  dir: string;
  full?: boolean;
  /** Labelled images the student gets (class-balanced). */
  labelled: number;
  /** Seed of the one shuffle and of the labelled sample (the same for every run of the demo). */
  seed?: number;
  progress?: Progress;
}

interface Split {
  images: IdxArray;
  labels: IdxArray;
}

function readSplit(dir: string, prefix: string): Split {
  const images = readIdx(idxPath(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(idxPath(dir, `${prefix}-labels-idx1-ubyte`));
  if (images.dims.length !== 3 || labels.dims[0] !== images.dims[0]) {
    throw new KdnetError(`${dir}: ${prefix}-images and ${prefix}-labels do not match (${images.dims.join('×')} images, ${labels.dims.join('×')} labels)`);
  }
  return { images, labels };
}

/** The first `count / classes` images of each class in `order`: a class-balanced sample. */
export function balancedSample(labels: ArrayLike<number>, order: number[], count: number, classes: number): Set<number> {
  if (count % classes !== 0) throw new KdnetError(`--labelled must be a multiple of the ${classes} classes, got ${count}`);
  const perClass = count / classes;
  const taken = new Array<number>(classes).fill(0);
  const chosen = new Set<number>();
  for (const i of order) {
    const c = labels[i]!;
    if (taken[c]! < perClass) {
      taken[c]!++;
      chosen.add(i);
    }
  }
  const short = taken.findIndex((t) => t < perClass);
  if (short >= 0) throw new KdnetError(`--labelled ${count} needs ${perClass} images of each class, but class ${short} has only ${taken[short]}`);
  return chosen;
}

async function writeImages(db: string, split: Split, order: number[], label: (i: number) => number, progress?: Progress): Promise<void> {
  const [, rows, cols] = split.images.dims as [number, number, number];
  const size = rows * cols;
  fs.rmSync(db, { recursive: true, force: true });
  await writeDatabase(db, 'lmdb', async (writer) => {
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      await writer.put(recordKey(k), encodeDatum({ channels: 1, height: rows, width: cols, data: split.images.data.subarray(i * size, (i + 1) * size), label: label(i) }));
      progress?.(k + 1, order.length);
    }
  });
}

export async function buildDemoData(o: DemoDataOptions): Promise<DemoData> {
  const source = await fashionMnistSource({ full: o.full });
  const train = readSplit(source, 'train');
  const test = readSplit(source, 't10k');
  const classes = Math.max(...train.labels.data) + 1;
  const n = train.images.dims[0]!;
  if (!(Number.isInteger(o.labelled) && o.labelled > 0 && o.labelled < n)) {
    throw new KdnetError(`--labelled must be a whole number between 1 and ${n - 1} (the training images), got ${o.labelled}`);
  }
  const order = new Rng(o.seed ?? 20150309).shuffle(Array.from({ length: n }, (_, i) => i));
  const labelled = balancedSample(train.labels.data, order, o.labelled, classes);
  fs.mkdirSync(o.dir, { recursive: true });
  const databases = {
    train: path.join(o.dir, 'train_lmdb'),
    labelled: path.join(o.dir, 'labelled_lmdb'),
    transfer: path.join(o.dir, 'transfer_lmdb'),
    test: path.join(o.dir, 'test_lmdb'),
  };
  const labelOf = (s: Split) => (i: number) => s.labels.data[i]!;
  await writeImages(databases.train, train, order, labelOf(train), o.progress);
  await writeImages(databases.labelled, train, order.filter((i) => labelled.has(i)), labelOf(train), o.progress);
  await writeImages(databases.transfer, train, order, (i) => (labelled.has(i) ? train.labels.data[i]! : UNLABELLED), o.progress);
  const testOrder = Array.from({ length: test.images.dims[0]! }, (_, i) => i);
  await writeImages(databases.test, test, testOrder, labelOf(test), o.progress);
  return { source, dir: o.dir, classes, databases, counts: { train: n, labelled: o.labelled, test: testOrder.length } };
}
