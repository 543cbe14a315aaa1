// The data tools, each checked by reading its output back through the Data layer: convert-mnist,
// convert-imageset, compute-image-mean, db-info, convert-vectors (and the second-database pattern).
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { initBackend } from '../../src/backend/select.js';
import { encodeIdx } from '../../src/data/idx.js';
import { convertMnist, convertImageset, computeImageMean, dbInfo, convertVectors } from '../../src/data/tools/index.js';
import { openDbReader } from '../../src/data/db/index.js';
import { decodeDatum, encodeDatum } from '../../src/data/datum.js';
import { writeNpy } from '../../src/util/npy.js';
import { hdf5Ready } from '../../src/data/hdf5-file.js';
import { KdnetError } from '../../src/errors.js';
import { writeH5 } from '../support/h5.js';
import { dataNet, netFromText, pixels, tempDir, writeDatums, writePngs } from '../support/data.js';

const dir = tempDir();
const N = 6;
let images: Uint8Array[] = [];

beforeAll(async () => {
  await initBackend('cpu', true);
  await hdf5Ready();
  images = await writePngs(dir, N, 3, 5, 7);
  fs.writeFileSync(path.join(dir, 'list.txt'), images.map((_, i) => `img${i}.png ${i % 3}`).join('\n') + '\n');
});

async function records(dbPath: string): Promise<Array<{ key: string; datum: ReturnType<typeof decodeDatum> }>> {
  const r = await openDbReader(dbPath);
  const out = [];
  for await (const { key, value } of r.records()) out.push({ key: key.toString(), datum: decodeDatum(value, key.toString()) });
  await r.close();
  return out;
}

function readBatch(dbPath: string, backend: 'LMDB' | 'LEVELDB', batch: number, transform = ''): { data: number[]; label: number[]; shape: number[] } {
  const net = netFromText(dataNet(dbPath, backend, batch, transform));
  net.forward();
  const out = { data: Array.from(net.blob('data').dataSync()), label: Array.from(net.blob('label').dataSync()), shape: net.blobShape('data')! };
  net.dispose(); // releases the database (LevelDB allows one open handle)
  return out;
}

/** What cv::imread(IMREAD_GRAYSCALE) gives for a colour PNG (libpng's truncating 15-bit weights; checked against OpenCV 4.6). */
function gray(bgr: Uint8Array, plane: number): number[] {
  return Array.from({ length: plane }, (_, i) => (bgr[2 * plane + i]! * 9798 + bgr[plane + i]! * 19235 + bgr[i]! * 3735) >> 15);
}

describe('convert-mnist', () => {
  it('IDX (gzipped or not) into Datums the Data layer reads back pixel for pixel', async () => {
    const n = 70;
    const px = Uint8Array.from({ length: n * 5 * 6 }, (_, i) => (i * 7) & 255);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    fs.writeFileSync(path.join(dir, 'imgs-idx3-ubyte.gz'), zlib.gzipSync(encodeIdx([n, 5, 6], px)));
    fs.writeFileSync(path.join(dir, 'labels-idx1-ubyte'), encodeIdx([n], labels));
    const db = path.join(dir, 'mnist_lmdb');
    expect(await convertMnist(path.join(dir, 'imgs-idx3-ubyte.gz'), path.join(dir, 'labels-idx1-ubyte'), db)).toBe(n);
    const recs = await records(db);
    expect(recs.map((r) => r.key).slice(0, 2)).toEqual(['00000000', '00000001']);
    expect(recs[1]!.datum).toMatchObject({ channels: 1, height: 5, width: 6, label: 1, encoded: false });
    const b = readBatch(db, 'LMDB', n, 'scale: 0.00390625');
    expect(b.shape).toEqual([n, 1, 5, 6]);
    expect(b.data).toEqual(Array.from(px, (v) => Math.fround(v * Math.fround(0.00390625))));
    expect(b.label).toEqual(Array.from(labels));
  });

  it('refuses mismatched image and label counts', async () => {
    fs.writeFileSync(path.join(dir, 'few-labels'), encodeIdx([3], Uint8Array.of(1, 2, 3)));
    await expect(convertMnist(path.join(dir, 'imgs-idx3-ubyte.gz'), path.join(dir, 'few-labels'), path.join(dir, 'bad_lmdb'))).rejects.toThrow(/3 labels for 70 images/);
    expect(fs.existsSync(path.join(dir, 'bad_lmdb'))).toBe(false);
  });
});

describe('convert-imageset', () => {
  it('raw colour images: BGR bytes, keys %08d_path, read back exactly (LMDB and LevelDB)', async () => {
    for (const [backend, name] of [['lmdb', 'LMDB'], ['leveldb', 'LEVELDB']] as const) {
      const db = path.join(dir, `set_${backend}`);
      await convertImageset(`${dir}/`, path.join(dir, 'list.txt'), db, { backend });
      const recs = await records(db);
      expect(recs.map((r) => r.key)).toEqual(images.map((_, i) => `0000000${i}_img${i}.png`));
      expect(recs[0]!.datum).toMatchObject({ channels: 3, height: 5, width: 7, encoded: false });
      const b = readBatch(db, name, N);
      expect(b.data).toEqual(images.flatMap((p) => Array.from(p)));
      expect(b.label).toEqual([0, 1, 2, 0, 1, 2]);
    }
  });

  it('--gray stores OpenCV\'s gray conversion', async () => {
    const db = path.join(dir, 'gray_lmdb');
    await convertImageset(`${dir}/`, path.join(dir, 'list.txt'), db, { gray: true });
    const b = readBatch(db, 'LMDB', N);
    expect(b.shape).toEqual([N, 1, 5, 7]);
    expect(b.data).toEqual(images.flatMap((p) => gray(p, 35)));
  });

  it('--encoded keeps each PNG file\'s own bytes; the Data layer decodes them to the same pixels', async () => {
    const db = path.join(dir, 'encoded_lmdb');
    await convertImageset(`${dir}/`, path.join(dir, 'list.txt'), db, { encoded: true });
    const recs = await records(db);
    expect(recs[2]!.datum.encoded).toBe(true);
    expect(Buffer.from(recs[2]!.datum.data).equals(fs.readFileSync(path.join(dir, 'img2.png')))).toBe(true);
    expect(readBatch(db, 'LMDB', N).data).toEqual(images.flatMap((p) => Array.from(p)));
    // force_gray decodes the colour PNGs to gray, as Caffe's DecodeDatumToCVMat(is_color=false).
    expect(readBatch(db, 'LMDB', N, 'force_gray: true').data).toEqual(images.flatMap((p) => gray(p, 35)));
  });

  it('--encode_type jpg re-encodes (lossy, close to the source)', async () => {
    const db = path.join(dir, 'jpg_lmdb');
    await convertImageset(`${dir}/`, path.join(dir, 'list.txt'), db, { encodeType: 'jpg' });
    const recs = await records(db);
    expect(recs[0]!.datum.encoded).toBe(true);
    expect(Array.from(recs[0]!.datum.data.subarray(0, 2))).toEqual([0xff, 0xd8]); // JPEG SOI
    const b = readBatch(db, 'LMDB', N);
    expect(b.shape).toEqual([N, 3, 5, 7]);
  });

  it('--resize_height/--resize_width resize (a flat image stays flat)', async () => {
    const sub = path.join(dir, 'flat');
    fs.mkdirSync(sub);
    const { encodeImage } = await import('../../src/data/image.js');
    const flat = new Uint8Array(3 * 9 * 12);
    flat.fill(30, 0, 108);
    flat.fill(60, 108, 216);
    flat.fill(90, 216);
    fs.writeFileSync(path.join(sub, 'f.png'), await encodeImage({ channels: 3, height: 9, width: 12, data: flat }, 'png'));
    fs.writeFileSync(path.join(sub, 'list.txt'), 'f.png 4\n');
    const db = path.join(dir, 'resized_lmdb');
    await convertImageset(`${sub}/`, path.join(sub, 'list.txt'), db, { resizeHeight: 4, resizeWidth: 5 });
    const b = readBatch(db, 'LMDB', 1);
    expect(b.shape).toEqual([1, 3, 4, 5]);
    expect(b.data).toEqual([...new Array(20).fill(30), ...new Array(20).fill(60), ...new Array(20).fill(90)]);
    expect(b.label).toEqual([4]);
  });

  it('--shuffle permutes the list reproducibly; every image kept once', async () => {
    const db = path.join(dir, 'shuffled_lmdb');
    await convertImageset(`${dir}/`, path.join(dir, 'list.txt'), db, { shuffle: true, seed: 4 });
    const keys = (await records(db)).map((r) => r.key.slice(9));
    expect([...keys].sort()).toEqual(images.map((_, i) => `img${i}.png`));
    expect(keys).not.toEqual(images.map((_, i) => `img${i}.png`));
  });

  it('a list line naming a missing image is one error naming the list line; nothing is written', async () => {
    fs.writeFileSync(path.join(dir, 'broken.txt'), 'img0.png 0\nimg1.png 1\nmissing.png 2\n');
    const db = path.join(dir, 'broken_lmdb');
    const err = await convertImageset(`${dir}/`, path.join(dir, 'broken.txt'), db).catch((e) => e);
    expect(err).toBeInstanceOf(KdnetError);
    expect(err.message).toMatch(/broken\.txt:3: .*missing\.png: no such image/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('broken_lmdb'))).toEqual([]);
  });

  it('--check_size refuses images of different sizes', async () => {
    const sub = path.join(dir, 'sizes');
    fs.mkdirSync(sub);
    await writePngs(sub, 1, 3, 4, 4);
    fs.renameSync(path.join(sub, 'img0.png'), path.join(sub, 'a.png'));
    await writePngs(sub, 1, 3, 5, 4);
    fs.writeFileSync(path.join(sub, 'list.txt'), 'a.png 0\nimg0.png 1\n');
    await expect(convertImageset(`${sub}/`, path.join(sub, 'list.txt'), path.join(dir, 'sizes_lmdb'), { checkSize: true })).rejects.toThrow(
      /list\.txt:2: .*img0\.png: incorrect data size 60, the first image has 48/,
    );
  });
});

describe('compute-image-mean', () => {
  it('equals the arithmetic mean of the records, raw or encoded', async () => {
    const expected = Array.from({ length: 3 * 5 * 7 }, (_, i) => Math.fround(images.reduce((s, p) => s + p[i]!, 0) / N));
    for (const db of ['set_lmdb', 'set_leveldb', 'encoded_lmdb']) {
      const m = await computeImageMean(path.join(dir, db));
      expect([m.channels, m.height, m.width]).toEqual([3, 5, 7]);
      expect(Array.from(m.data)).toEqual(expected);
    }
  });

  it('refuses records of different shapes, naming both', async () => {
    const db = path.join(dir, 'uneven_lmdb');
    await writeDatums(db, 'lmdb', [
      { channels: 1, height: 2, width: 2, data: pixels(0, 1, 2, 2) },
      { channels: 1, height: 1, width: 2, data: pixels(1, 1, 1, 2) },
    ]);
    await expect(computeImageMean(db)).rejects.toThrow(/record '00000001': shape 1×1×2 differs from 1×2×2 of the first record '00000000'/);
  });
});

describe('db-info', () => {
  it('counts records, lists the first keys, the Datum shape and the label histogram', async () => {
    const info = await dbInfo(path.join(dir, 'mnist_lmdb'), undefined, undefined, 3);
    expect(info.backend).toBe('lmdb');
    expect(info.count).toBe(70);
    expect(info.firstKeys).toEqual(['00000000', '00000001', '00000002']);
    expect(info.shape).toEqual([1, 5, 6]);
    expect([...info.labels.entries()].sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: 10 }, (_, l) => [l, 7]));
    const enc = await dbInfo(path.join(dir, 'encoded_lmdb'));
    expect([enc.encoded, enc.shape]).toEqual([true, [3, 5, 7]]);
  });
});

describe('convert-vectors and the second-database pattern of old distillation recipes', () => {
  const rows = 6;
  const dim = 4;
  const vectors = Float32Array.from({ length: rows * dim }, (_, i) => Math.fround(Math.sin(i) / 3));

  it('reads .npy, .h5, .csv and "name v1 v2 ..." lists into float_data Datums', async () => {
    writeNpy(path.join(dir, 'v.npy'), vectors, [rows, dim]);
    await writeH5(path.join(dir, 'v.h5'), { soft: { data: vectors, shape: [rows, dim] } });
    const lines = Array.from({ length: rows }, (_, r) => Array.from(vectors.subarray(r * dim, (r + 1) * dim)).join(','));
    fs.writeFileSync(path.join(dir, 'v.csv'), `a,b,c,d\n${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'v.txt'), lines.map((l, r) => `img${r}.png ${l.replaceAll(',', ' ')}`).join('\n'));
    for (const [file, opts] of [['v.npy', {}], ['v.h5', { dataset: 'soft' }], ['v.csv', {}], ['v.txt', { keyWidth: 10 }]] as const) {
      const db = path.join(dir, `${file}_lmdb`);
      const v = await convertVectors(path.join(dir, file), db, opts);
      expect([v.rows, v.dim]).toEqual([rows, dim]);
      const recs = await records(db);
      expect(recs[0]!.datum).toMatchObject({ channels: dim, height: 1, width: 1, label: 0 });
      if (file === 'v.txt') expect(recs[1]!.key).toBe('0000000001_img1.png');
      const net = netFromText(dataNet(db, 'LMDB', rows, '', false));
      net.forward();
      expect(net.blobShape('data')).toEqual([rows, dim, 1, 1]);
      expect(Array.from(net.blob('data').dataSync())).toEqual(Array.from(vectors));
    }
  });

  it('a net with an image database and a soft-target database reads them in step', async () => {
    // Soft targets one-hot on each image's label: the two Data layers must stay aligned batch after batch.
    const labels = [0, 1, 2, 0, 1, 2];
    const soft = path.join(dir, 'soft_lmdb');
    await writeDatums(soft, 'lmdb', labels.map((l) => ({ channels: 3, height: 1, width: 1, float_data: [0, 1, 2].map((k) => (k === l ? 1 : 0)) })));
    const net = netFromText(`
      layer { name: "data" type: "Data" top: "data" top: "label" data_param { source: "${dir}/set_lmdb" backend: LMDB batch_size: 4 } }
      layer { name: "soft" type: "Data" top: "soft_target" data_param { source: "${soft}" backend: LMDB batch_size: 4 } }`);
    for (let k = 0; k < 3; k++) {
      net.forward();
      const label = Array.from(net.blob('label').dataSync());
      const target = Array.from(net.blob('soft_target').dataSync());
      expect(label.flatMap((l) => [0, 1, 2].map((c) => (c === l ? 1 : 0)))).toEqual(target);
    }
  });

  it('names the line of a bad value', async () => {
    fs.writeFileSync(path.join(dir, 'bad.csv'), '1,2\n3,x\n');
    await expect(convertVectors(path.join(dir, 'bad.csv'), path.join(dir, 'bad_vec_lmdb'))).rejects.toThrow(/bad\.csv:2: 'x' is not a number/);
  });
});

// Keep encodeDatum referenced for readers of this file: records above are built through the tools.
void encodeDatum;
