// Helpers for the data tests: temporary folders, nets from text, known images and databases.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { Net } from '../../src/net/net.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { encodeImage } from '../../src/data/image.js';
import { createDbWriter, recordKey, type Backend } from '../../src/data/db/index.js';
import { encodeDatum, type Datum } from '../../src/data/datum.js';

/** A temporary folder removed after the file's tests. */
export function tempDir(prefix = 'kdnet-data-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const nets: Net[] = [];
afterAll(() => nets.splice(0).forEach((n) => n.dispose()));

/** A net from prototxt text (disposed after the file's tests: data workers stop). */
export function netFromText(text: string, phase = 0, seed = 3, baseDir?: string): Net {
  const net = new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase, seed, baseDir });
  nets.push(net);
  return net;
}

/** Deterministic C×H×W uint8 pixels, different per index. */
export function pixels(index: number, c: number, h: number, w: number): Uint8Array {
  return Uint8Array.from({ length: c * h * w }, (_, i) => (index * 37 + i * 11 + ((i * i) % 7)) & 255);
}

/** Writes PNG files (BGR C×H×W pixels) named img<i>.png and returns their pixels. */
export async function writePngs(dir: string, n: number, c: number, h: number, w: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const px = pixels(i, c, h, w);
    fs.writeFileSync(path.join(dir, `img${i}.png`), await encodeImage({ channels: c, height: h, width: w, data: px }, 'png'));
    out.push(px);
  }
  return out;
}

/** A database of the given Datum records with keys %0<width>d, through kdnet's writer. */
export async function writeDatums(dbPath: string, backend: Backend, datums: Partial<Datum>[], keyWidth = 8): Promise<void> {
  const w = createDbWriter(dbPath, backend);
  for (const [i, d] of datums.entries()) await w.put(recordKey(i, keyWidth), encodeDatum(d));
  await w.finish();
}

/** A Data layer net over `source` (two tops unless `labels` is false). */
export function dataNet(source: string, backend: 'LMDB' | 'LEVELDB', batch: number, transform = '', labels = true, extra = ''): string {
  return `layer { name: "data" type: "Data" top: "data" ${labels ? 'top: "label"' : ''}
    ${transform ? `transform_param { ${transform} }` : ''}
    data_param { source: "${source}" backend: ${backend} batch_size: ${batch} ${extra} } }`;
}
