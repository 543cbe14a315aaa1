// A Caffe "Python" data layer written in JavaScript: batches of Fashion-MNIST from the IDX files shipped in
// data/fashion-mnist/subset, as pycaffe data layers (FCN's voc_layers) do it: configuration from param_str,
// files read in setup, top shapes in reshape, a new batch every forward, no backward.
//
// param_str is JSON: {"split": "train" | "t10k", "batch_size": 64, "scale": 0.00390625, "shuffle": true,
// "seed": 1, "dir": "<folder of the IDX files, relative to this file>"}
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TRAIN = 0; // pycaffe's caffe.TRAIN: this.phase is an int, as self.phase is

function readIdx(file) {
  let bytes = fs.readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  if (bytes[2] !== 0x08) throw new Error(`${file} is not an IDX file of unsigned bytes`);
  const ndims = bytes[3];
  const dims = Array.from({ length: ndims }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * ndims) };
}

// A small seeded generator (mulberry32), so a run's batch order is reproducible.
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FashionMnistData {
  setup(bottom, top) {
    if (bottom.length !== 0) throw new Error('a data layer takes no bottoms');
    if (top.length !== 2) throw new Error('need two tops: data and label');
    const p = JSON.parse(this.param_str || '{}');
    const split = p.split ?? (this.phase === TRAIN ? 'train' : 't10k');
    const dir = path.resolve(HERE, p.dir ?? '../../data/fashion-mnist/subset');
    this.batchSize = p.batch_size ?? 64;
    this.scale = p.scale ?? 1 / 256;
    this.images = readIdx(path.join(dir, `${split}-images-idx3-ubyte.gz`));
    this.labels = readIdx(path.join(dir, `${split}-labels-idx1-ubyte.gz`)).data;
    [, this.height, this.width] = this.images.dims;
    this.order = Array.from(this.labels, (_, i) => i);
    if (p.shuffle ?? this.phase === TRAIN) {
      const random = generator(p.seed ?? 1);
      for (let i = this.order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
      }
    }
    this.cursor = 0;
  }

  reshape(bottom, top) {
    top[0].reshape(this.batchSize, 1, this.height, this.width);
    top[1].reshape(this.batchSize);
  }

  forward(bottom, top) {
    const pixels = this.height * this.width;
    const data = top[0].data;
    const label = top[1].data;
    for (let n = 0; n < this.batchSize; n++) {
      const index = this.order[this.cursor];
      this.cursor = (this.cursor + 1) % this.order.length;
      const image = this.images.data.subarray(index * pixels, (index + 1) * pixels);
      for (let k = 0; k < pixels; k++) data[n * pixels + k] = image[k] * this.scale;
      label[n] = this.labels[index];
    }
  }

  backward() {}
}
