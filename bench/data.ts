// Data input through the real layers (prefetch worker included): images per second of N forward passes of a
// net holding only the data layer (backend cpu), after a warm-up, reading one value back per batch. Then the
// LeNet training loop (backend wasm) with its Data layer: ms per iteration and the time forward passes spent
// waiting for a batch the worker had not prefetched yet. Everything is built from the Fashion-MNIST subset in
// a temporary folder, removed at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { parseCaffeText } from '../dist/proto/text.js';
import { Net } from '../dist/net/net.js';
import { Solver } from '../dist/solvers/solver.js';
import { setLogSink } from '../dist/log.js';
import { readIdx } from '../dist/data/idx.js';
import { encodeImage } from '../dist/data/image.js';
import { writeHdf5Atomic } from '../dist/data/hdf5-file.js';
import { convertMnist, convertImageset } from '../dist/data/tools/index.js';
import type { PrefetchingLayer } from '../dist/layers/data/prefetching-layer.js';

type Report = (name: string, value: string, target?: string, ok?: boolean) => void;

const BATCH = 64;
/** Encoded image files written for the encoded-Datum, ImageData rows. */
const FILES = 512;
const SCALE = 'transform_param { scale: 0.00390625 }';

/**
 * Images per second of `batches` forward passes after `warmup` ones (one value per batch is read back), and
 * the shape of one image as the layer delivered it, C×H×W.
 */
function imagesPerSecond(layer: string, warmup: number, batches: number): { rate: number; shape: string } {
  const text = `name: "bench" ${layer}`;
  const net = new Net(parseCaffeText(text, 'NetParameter', 'bench.prototxt').message, { phase: 0, seed: 1 });
  let sink = 0;
  const pass = () => {
    net.forward();
    const d = net.blob('data');
    sink += tf.tidy(() => tf.slice(d, new Array(d.rank).fill(0), new Array(d.rank).fill(1)).dataSync()[0]!);
  };
  try {
    for (let i = 0; i < warmup; i++) pass();
    const start = performance.now();
    for (let i = 0; i < batches; i++) pass();
    const seconds = (performance.now() - start) / 1000;
    if (!Number.isFinite(sink)) throw new Error('non-finite data');
    const [n, ...chw] = net.blob('data').shape;
    return { rate: (batches * n!) / seconds, shape: chw.join('×') };
  } finally {
    net.dispose();
  }
}

const lenet = (source: string) => `name: "LeNet"
layer { name: "data" type: "Data" top: "data" top: "label" ${SCALE} data_param { source: "${source}" batch_size: ${BATCH} backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" param { lr_mult: 1 } param { lr_mult: 2 } convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" param { lr_mult: 1 } param { lr_mult: 2 } convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" param { lr_mult: 1 } param { lr_mult: 2 } inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" param { lr_mult: 1 } param { lr_mult: 2 } inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }`;

export async function benchData(subset: string, report: Report): Promise<void> {
  const images = path.join(subset, 'train-images-idx3-ubyte.gz');
  const labels = path.join(subset, 'train-labels-idx1-ubyte.gz');
  if (!fs.existsSync(images) || !fs.existsSync(labels)) {
    console.log(`data: ${subset} not found, skipped`);
    return;
  }
  const previousSink = setLogSink(() => {});
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-bench-data-'));
  try {
    await initBackend('cpu', true);

    // Inputs: the raw LMDB (convert_mnist), the first FILES images as PNG and JPEG files (encodeImage) with
    // their lists, encoded LMDBs of both (convert_imageset --gray --encoded), and an HDF5 file of all the
    // images as float32 in [0, 1), what the Data layer's scale makes of the raw bytes.
    const rawDb = path.join(tmp, 'train_lmdb');
    const n = await convertMnist(images, labels, rawDb, 'lmdb');
    const px = readIdx(images);
    const lab = readIdx(labels);
    const [rows, cols] = [px.dims[1]!, px.dims[2]!];
    const size = rows * cols;
    const imgDir = path.join(tmp, 'images');
    fs.mkdirSync(imgDir);
    const lists: Record<'png' | 'jpg', string[]> = { png: [], jpg: [] };
    for (let i = 0; i < FILES; i++) {
      const pixels = { channels: 1, height: rows, width: cols, data: px.data.subarray(i * size, (i + 1) * size) };
      for (const type of ['png', 'jpg'] as const) {
        const name = `${String(i).padStart(5, '0')}.${type}`;
        fs.writeFileSync(path.join(imgDir, name), await encodeImage(pixels, type));
        lists[type].push(`${name} ${lab.data[i]}`);
      }
    }
    const encodedDb: Record<'png' | 'jpg', string> = { png: '', jpg: '' };
    for (const type of ['png', 'jpg'] as const) {
      const list = path.join(tmp, `${type}.txt`);
      fs.writeFileSync(list, lists[type].join('\n') + '\n');
      encodedDb[type] = path.join(tmp, `${type}_lmdb`);
      await convertImageset(imgDir + path.sep, list, encodedDb[type], { gray: true, encoded: true, backend: 'lmdb' });
    }
    const h5 = path.join(tmp, 'train.h5');
    const floats = new Float32Array(n * size);
    for (let i = 0; i < floats.length; i++) floats[i] = px.data[i]! * 0.00390625;
    writeHdf5Atomic(h5, (root) => {
      root.create_dataset({ name: 'data', data: floats, shape: [n, 1, rows, cols] });
      root.create_dataset({ name: 'label', data: Float32Array.from(lab.data), shape: [n] });
    });
    const h5List = path.join(tmp, 'h5.txt');
    fs.writeFileSync(h5List, `${h5}\n`);

    const dataLayer = (source: string) =>
      `layer { name: "data" type: "Data" top: "data" top: "label" ${SCALE} data_param { source: "${source}" batch_size: ${BATCH} backend: LMDB } }`;
    // Row names carry the shape the layer delivered (an encoded Datum decodes with the file's own channels).
    const raw = imagesPerSecond(dataLayer(rawDb), 50, 2000);
    report(`data: Data LMDB raw ${raw.shape} b${BATCH}`, `${raw.rate.toFixed(0)} img/s`, '≥ 20000 img/s', raw.rate >= 20000);
    for (const [type, label] of [['png', 'PNG'], ['jpg', 'JPEG']] as const) {
      const r = imagesPerSecond(dataLayer(encodedDb[type]), 10, 150);
      report(`data: Data LMDB ${label} ${r.shape} b${BATCH}`, `${r.rate.toFixed(0)} img/s`);
    }
    const hdf5 = imagesPerSecond(
      `layer { name: "data" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "${h5List}" batch_size: ${BATCH} } }`,
      50,
      3000,
    );
    report(`data: HDF5Data float32 ${hdf5.shape} b${BATCH}`, `${hdf5.rate.toFixed(0)} img/s`);
    const imageData = imagesPerSecond(
      `layer { name: "data" type: "ImageData" top: "data" top: "label" ${SCALE} image_data_param { source: "${path.join(tmp, 'png.txt')}" root_folder: "${imgDir + path.sep}" is_color: false batch_size: ${BATCH} } }`,
      10,
      150,
    );
    report(`data: ImageData PNG ${imageData.shape} b${BATCH}`, `${imageData.rate.toFixed(0)} img/s`);

    // LeNet training with the Data layer prefetching from the raw LMDB.
    await initBackend('wasm', true);
    const warmup = 20;
    const iterations = 200;
    const solver = new Solver(
      parseCaffeText(
        `net_param { ${lenet(rawDb)} }\nbase_lr: 0.01\nmomentum: 0.9\nweight_decay: 0.0005\nlr_policy: "inv"\ngamma: 0.0001\npower: 0.75\nmax_iter: ${warmup + iterations}\ndisplay: 0\nrandom_seed: 1`,
        'SolverParameter',
      ).message,
    );
    try {
      const data = solver.net.layer('data') as unknown as PrefetchingLayer;
      await solver.step(warmup);
      const wait0 = data.dataWaitMs;
      const start = performance.now();
      await solver.step(iterations);
      const ms = performance.now() - start;
      const waitMs = data.dataWaitMs - wait0;
      const pct = (100 * waitMs) / ms;
      report(`data: LeNet train wasm b${BATCH}, ${iterations} it`, `${(ms / iterations).toFixed(1)} ms/iter`);
      report(`data: LeNet train, Data layer wait`, `${pct.toFixed(2)} % (${waitMs.toFixed(0)} ms)`, '< 1 % of the loop', pct < 1);
    } finally {
      solver.dispose();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    setLogSink(previousSink);
  }
}
