// The embedded default data set: Fashion-MNIST from the subset shipped in data/fashion-mnist/subset
// (1,000 training and 200 test images per class), or with --full the whole set, from Debian's
// dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), FASHION_MNIST_DIR, or downloaded into
// ~/.cache/kdnet/fashion-mnist. Written as Caffe's examples have MNIST: two LMDBs of uint8 Datum records
// (1×28×28, keys %08d), which models/lenet reads with transform_param { scale: 0.00390625 }.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { convertMnist } from './tools/convert-mnist.js';
import type { Progress } from './tools/write-records.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUBSET_DIR = path.join(packageRoot, 'data', 'fashion-mnist', 'subset');
export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const DOWNLOAD_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

export interface FashionMnistResult {
  source: string;
  outDir: string;
  databases: { train: string; test: string };
  counts: { train: number; test: number };
}

function hasIdx(dir: string): boolean {
  return FILES.every((f) => fs.existsSync(path.join(dir, `${f}.gz`)) || fs.existsSync(path.join(dir, f)));
}

async function download(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of FILES) {
    const target = path.join(dir, `${f}.gz`);
    if (fs.existsSync(target)) continue;
    log.info(`Downloading ${DOWNLOAD_URL}${f}.gz`);
    let bytes: Buffer;
    try {
      const res = await fetch(`${DOWNLOAD_URL}${f}.gz`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new KdnetError(
        `cannot download Fashion-MNIST (${(e as Error).message}); install Debian's dataset-fashion-mnist or put the IDX files in FASHION_MNIST_DIR`,
      );
    }
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, target);
  }
}

async function sourceDir(full: boolean): Promise<string> {
  if (!full) return SUBSET_DIR;
  const local = process.env.FASHION_MNIST_DIR ?? SYSTEM_DIR;
  if (hasIdx(local)) return local;
  if (process.env.FASHION_MNIST_DIR) throw new KdnetError(`FASHION_MNIST_DIR=${local} does not hold the four Fashion-MNIST IDX files`);
  const cache = path.join(os.homedir(), '.cache', 'kdnet', 'fashion-mnist');
  if (!hasIdx(cache)) await download(cache);
  return cache;
}

function idxPath(dir: string, name: string): string {
  const gz = path.join(dir, `${name}.gz`);
  return fs.existsSync(gz) ? gz : path.join(dir, name);
}

/** Builds fashion_train_lmdb and fashion_test_lmdb in `outDir`, replacing older ones only once complete. */
export async function buildFashionMnist(outDir: string, full = false, progress?: Progress): Promise<FashionMnistResult> {
  const src = await sourceDir(full);
  fs.mkdirSync(outDir, { recursive: true });
  const counts = { train: 0, test: 0 };
  const databases = { train: path.join(outDir, 'fashion_train_lmdb'), test: path.join(outDir, 'fashion_test_lmdb') };
  for (const [split, file] of [['train', 'train'], ['test', 't10k']] as const) {
    const db = databases[split];
    const fresh = `${db}.new`;
    fs.rmSync(fresh, { recursive: true, force: true });
    counts[split] = await convertMnist(idxPath(src, `${file}-images-idx3-ubyte`), idxPath(src, `${file}-labels-idx1-ubyte`), fresh, 'lmdb', progress);
    fs.rmSync(db, { recursive: true, force: true });
    fs.renameSync(fresh, db);
    log.info(`Wrote ${counts[split]} ${split} images to ${db}`);
  }
  return { source: src, outDir, databases, counts };
}
