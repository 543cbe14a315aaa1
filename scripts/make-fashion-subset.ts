// Builds the Fashion-MNIST subset shipped in data/fashion-mnist/subset (run once; its output is committed):
// the first 1,000 training and 200 test images of each class, in the original order, as gzip'd IDX files.
// Source: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or FASHION_MNIST_DIR.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { readIdx, encodeIdx } from '../src/data/idx.js';

const src = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const out = new URL('../data/fashion-mnist/subset/', import.meta.url).pathname;
fs.mkdirSync(out, { recursive: true });

for (const [split, perClass] of [['train', 1000], ['t10k', 200]] as const) {
  const images = readIdx(path.join(src, `${split}-images-idx3-ubyte.gz`));
  const labels = readIdx(path.join(src, `${split}-labels-idx1-ubyte.gz`));
  const [, h, w] = images.dims as [number, number, number];
  const taken = new Array(10).fill(0);
  const keep: number[] = [];
  labels.data.forEach((c, i) => {
    if (taken[c]! < perClass) {
      taken[c]!++;
      keep.push(i);
    }
  });
  const img = new Uint8Array(keep.length * h * w);
  const lab = new Uint8Array(keep.length);
  keep.forEach((i, k) => {
    img.set(images.data.subarray(i * h * w, (i + 1) * h * w), k * h * w);
    lab[k] = labels.data[i]!;
  });
  fs.writeFileSync(path.join(out, `${split}-images-idx3-ubyte.gz`), zlib.gzipSync(encodeIdx([keep.length, h, w], img), { level: 9 }));
  fs.writeFileSync(path.join(out, `${split}-labels-idx1-ubyte.gz`), zlib.gzipSync(encodeIdx([keep.length], lab), { level: 9 }));
  console.log(`${split}: ${keep.length} images`);
}
