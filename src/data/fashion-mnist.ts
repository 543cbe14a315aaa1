// The embedded default data set: Fashion-MNIST from the subset shipped in data/fashion-mnist/subset
// (1,000 training and 200 test images per class), or the full set from Debian's dataset-fashion-mnist
// (/usr/share/datasets/fashion-mnist) or FASHION_MNIST_DIR with --full. Written as HDF5 (`data` N×1×28×28
// float32 scaled by 1/256 like Caffe's LeNet transform, `label` N) plus the list files HDF5Data reads.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIdx } from './idx.js';
import { hdf5Ready, writeHdf5Atomic } from './hdf5-file.js';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUBSET_DIR = path.join(packageRoot, 'data', 'fashion-mnist', 'subset');
export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export interface FashionMnistResult {
  source: string;
  outDir: string;
  counts: { train: number; test: number };
}

function sourceDir(full: boolean): string {
  if (!full) return SUBSET_DIR;
  const dir = process.env.FASHION_MNIST_DIR ?? SYSTEM_DIR;
  if (!fs.existsSync(path.join(dir, 'train-images-idx3-ubyte.gz')) && !fs.existsSync(path.join(dir, 'train-images-idx3-ubyte'))) {
    throw new KdnetError(`--full needs the Fashion-MNIST IDX files in ${dir} (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)`);
  }
  return dir;
}

function idxPath(dir: string, name: string): string {
  const gz = path.join(dir, `${name}.gz`);
  return fs.existsSync(gz) ? gz : path.join(dir, name);
}

export async function buildFashionMnist(outDir: string, full = false): Promise<FashionMnistResult> {
  await hdf5Ready();
  const src = sourceDir(full);
  fs.mkdirSync(outDir, { recursive: true });
  const counts = { train: 0, test: 0 };
  for (const [split, file] of [['train', 'train'], ['test', 't10k']] as const) {
    const images = readIdx(idxPath(src, `${file}-images-idx3-ubyte`));
    const labels = readIdx(idxPath(src, `${file}-labels-idx1-ubyte`));
    const [n, h, w] = images.dims as [number, number, number];
    if (labels.dims[0] !== n) throw new KdnetError(`${src}: ${n} ${split} images but ${labels.dims[0]} labels`);
    const data = Float32Array.from(images.data, (v) => v * 0.00390625);
    const label = Float32Array.from(labels.data);
    const h5 = path.join(outDir, `${split}.h5`);
    writeHdf5Atomic(h5, (root) => {
      root.create_dataset({ name: 'data', data, shape: [n, 1, h, w] });
      root.create_dataset({ name: 'label', data: label, shape: [n] });
    });
    fs.writeFileSync(path.join(outDir, `${split}.txt`), `${path.resolve(h5)}\n`);
    counts[split] = n;
    log.info(`Wrote ${n} ${split} images to ${h5}`);
  }
  return { source: src, outDir, counts };
}
