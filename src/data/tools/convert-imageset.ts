// Caffe's convert_imageset: images named in a "path label" list (relative to ROOT) into a database of Datum
// records, keys %08d_path; raw BGR bytes, or the encoded file (--encoded) re-encoded only when resized or
// when --encode_type asks for another format.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { Rng } from '../../util/rng.js';
import { encodeDatum } from '../datum.js';
import { decodeImage, encodeImage } from '../image.js';
import { recordKey, type Backend } from '../db/index.js';
import { readImageList } from '../feed/sources.js';
import { writeDatabase, type Progress } from './write-records.js';

export interface ConvertImagesetOptions {
  gray?: boolean;
  shuffle?: boolean;
  backend?: Backend;
  resizeHeight?: number;
  resizeWidth?: number;
  checkSize?: boolean;
  encoded?: boolean;
  encodeType?: string;
  seed?: number;
}

export async function convertImageset(root: string, listFile: string, dbPath: string, o: ConvertImagesetOptions = {}, progress?: Progress): Promise<number> {
  const lines = readImageList(listFile);
  if (o.shuffle) {
    log.info('Shuffling data');
    new Rng(o.seed ?? Date.now()).shuffle(lines);
  }
  log.info(`A total of ${lines.length} images.`);
  if (o.encodeType && !o.encoded) log.info('encode_type specified, assuming encoded=true.');
  const encoded = o.encoded || !!o.encodeType;
  const resize = (o.resizeHeight ?? 0) > 0 || (o.resizeWidth ?? 0) > 0 ? { height: o.resizeHeight ?? 0, width: o.resizeWidth ?? 0 } : undefined;
  if (resize && !(resize.height > 0 && resize.width > 0)) throw new KdnetError('--resize_height and --resize_width must be set together');
  let firstSize: number | undefined;
  await writeDatabase(dbPath, o.backend ?? 'lmdb', async (db) => {
    for (const [i, entry] of lines.entries()) {
      const file = root + entry.file;
      const where = `${listFile}:${entry.line}: ${file}`;
      if (!fs.existsSync(file)) throw new KdnetError(`${where}: no such image`);
      const ext = path.extname(file).slice(1).toLowerCase();
      const type = (o.encodeType || ext).toLowerCase();
      let datum: Parameters<typeof encodeDatum>[0];
      const native = encoded && !resize ? await decodeImage(file, 'native', where) : undefined;
      if (native && native.channels === (o.gray ? 1 : 3) && sameFormat(type, ext)) {
        // Caffe keeps the file's own bytes when nothing about the image changes.
        datum = { data: fs.readFileSync(file), label: entry.label, encoded: true };
      } else {
        const px = await decodeImage(file, o.gray ? 'gray' : 'color', where, resize);
        datum = encoded
          ? { data: await encodeImage(px, type), label: entry.label, encoded: true }
          : { channels: px.channels, height: px.height, width: px.width, data: px.data, label: entry.label };
      }
      if (o.checkSize) {
        const size = (datum.data as Uint8Array).length;
        firstSize ??= size;
        if (!encoded && size !== firstSize) throw new KdnetError(`${where}: incorrect data size ${size}, the first image has ${firstSize}`);
      }
      await db.put(`${recordKey(i)}_${entry.file}`, encodeDatum(datum));
      progress?.(i + 1, lines.length);
      if ((i + 1) % 1000 === 0) log.info(`Processed ${i + 1} files.`);
    }
  });
  if (lines.length % 1000 !== 0) log.info(`Processed ${lines.length} files.`);
  return lines.length;
}

function sameFormat(a: string, b: string): boolean {
  const norm = (t: string) => (t.toLowerCase() === 'jpeg' ? 'jpg' : t.toLowerCase());
  return norm(a) === norm(b);
}
