// The embedded default data set: Fashion-MNIST from the subset shipped in data/fashion-mnist/subset
// (1,000 training and 200 test images per class), or with --full the whole set, from Debian's
// dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), FASHION_MNIST_DIR, or downloaded into
// ~/.cache/kdnet/fashion-mnist. Written as Caffe's examples have MNIST: two LMDBs of uint8 Datum records
// (1×28×28, keys %08d), which models/lenet reads with transform_param { scale: 0.00390625 }. With cifarShape
// the same images are stored in CIFAR-10's shape (3×32×32: centred on a black canvas, grey copied into three
// channels) as fashion_cifar_shape_{train,test}_lmdb, for models written for CIFAR-10 (models/multilayer_transfer).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KdnetError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { log } from '../log.js';
import { convertMnist } from './tools/convert-mnist.js';
import type { Progress } from './tools/write-records.js';
import { greyToCifarShape } from './cifar-shape.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUBSET_DIR = path.join(packageRoot, 'data', 'fashion-mnist', 'subset');
export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const DOWNLOAD_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

export interface FashionMnistOptions {
  outDir: string;
  /** The whole set rather than the shipped subset. */
  full?: boolean;
  /** 3×32×32 records (CIFAR-10's shape) rather than 1×28×28. */
  cifarShape?: boolean;
  progress?: Progress;
  /** Where to look for the IDX files before downloading (FASHION_MNIST_DIR, then Debian's folder). */
  localDirs?: string[];
  cacheDir?: string;
  url?: string;
}

export interface FashionMnistResult {
  source: string;
  outDir: string;
  databases: { train: string; test: string };
  counts: { train: number; test: number };
}

function hasIdx(dir: string): boolean {
  return FILES.every((f) => fs.existsSync(path.join(dir, `${f}.gz`)) || fs.existsSync(path.join(dir, f)));
}

async function download(dir: string, url: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of FILES) {
    const target = path.join(dir, `${f}.gz`);
    if (fs.existsSync(target)) continue;
    log.info(`Downloading ${url}${f}.gz`);
    let bytes: Buffer;
    try {
      const res = await fetch(`${url}${f}.gz`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new KdnetError(
        `cannot download Fashion-MNIST from ${url} (${(e as Error).message}); install Debian's dataset-fashion-mnist or put the IDX files in FASHION_MNIST_DIR`,
      );
    }
    writeFileAtomic(target, bytes);
  }
}

/** The folder holding the four IDX files: the shipped subset, or (full) a local copy or a download. */
export async function fashionMnistSource(o: Pick<FashionMnistOptions, 'full' | 'localDirs' | 'cacheDir' | 'url'>): Promise<string> {
  if (!o.full) return SUBSET_DIR;
  const env = process.env.FASHION_MNIST_DIR;
  if (env && !hasIdx(env)) throw new KdnetError(`FASHION_MNIST_DIR=${env} does not hold the four Fashion-MNIST IDX files`);
  const local = (o.localDirs ?? [env, SYSTEM_DIR]).filter((d): d is string => !!d).find(hasIdx);
  if (local) return local;
  const cache = o.cacheDir ?? path.join(os.homedir(), '.cache', 'kdnet', 'fashion-mnist');
  if (!hasIdx(cache)) await download(cache, o.url ?? DOWNLOAD_URL);
  return cache;
}

/** `name` in `dir`, gzipped or not. */
export function idxPath(dir: string, name: string): string {
  const gz = path.join(dir, `${name}.gz`);
  return fs.existsSync(gz) ? gz : path.join(dir, name);
}

/** Builds fashion_train_lmdb and fashion_test_lmdb in `outDir`, replacing older ones only once complete. */
export async function buildFashionMnist(o: FashionMnistOptions): Promise<FashionMnistResult> {
  const { outDir, progress } = o;
  const src = await fashionMnistSource(o);
  fs.mkdirSync(outDir, { recursive: true });
  const counts = { train: 0, test: 0 };
  const name = o.cifarShape ? 'fashion_cifar_shape' : 'fashion';
  const databases = { train: path.join(outDir, `${name}_train_lmdb`), test: path.join(outDir, `${name}_test_lmdb`) };
  for (const [split, file] of [['train', 'train'], ['test', 't10k']] as const) {
    const db = databases[split];
    const fresh = `${db}.new`;
    fs.rmSync(fresh, { recursive: true, force: true });
    counts[split] = await convertMnist(idxPath(src, `${file}-images-idx3-ubyte`), idxPath(src, `${file}-labels-idx1-ubyte`), fresh, 'lmdb', progress, o.cifarShape ? greyToCifarShape : undefined);
    fs.rmSync(db, { recursive: true, force: true });
    fs.renameSync(fresh, db);
    log.info(`Wrote ${counts[split]} ${split} images to ${db}`);
  }
  return { source: src, outDir, databases, counts };
}
