// The kdistil fork's convert_vectors: float vectors (soft targets, features) into a database of float_data
// Datum records (channels = vector length, height = width = 1, label 0), in row order, so a second Data
// layer reads them beside the images. Input: .npy (N×D), .h5 (a dataset, `data` by default), .csv, or a
// list file whose lines are "name v1 v2 ..." (keys then follow convert_imageset's %08d_name).
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { readNpy } from '../../util/npy.js';
import { hdf5Ready, readHdf5Datasets } from '../hdf5-file.js';
import { encodeDatum } from '../datum.js';
import { recordKey, type Backend } from '../db/index.js';
import { writeDatabase, type Progress } from './write-records.js';

export interface Vectors {
  rows: number;
  dim: number;
  data: Float32Array;
  /** Per-row names from a list file, used in the keys. */
  names?: string[];
}

export interface ConvertVectorsOptions {
  backend?: Backend;
  /** Dataset to read from an HDF5 input. */
  dataset?: string;
  /** Digits of the record index in keys (8 like Caffe's tools; some forks use 10). */
  keyWidth?: number;
}

function readText(file: string): Vectors {
  const rows: number[][] = [];
  const names: string[] = [];
  const csv = file.toLowerCase().endsWith('.csv');
  fs.readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const cells = line.split(csv ? /\s*,\s*/ : /\s+/);
      // A leading non-number is the sample's name (convert_vector's "file v1 v2 ..." lines).
      if (cells.length && Number.isNaN(Number(cells[0]))) names.push(cells.shift()!);
      const values = cells.map(Number);
      const bad = values.findIndex((v) => Number.isNaN(v));
      if (bad >= 0) {
        // A CSV header row is skipped; any other non-number is an error.
        if (csv && rows.length === 0 && names.length <= 1) {
          names.length = 0;
          return;
        }
        throw new KdnetError(`${file}:${i + 1}: '${cells[bad]}' is not a number`);
      }
      if (rows.length && values.length !== rows[0]!.length) throw new KdnetError(`${file}:${i + 1}: ${values.length} values, the first row has ${rows[0]!.length}`);
      rows.push(values);
    });
  if (!rows.length) throw new KdnetError(`${file}: no vectors`);
  if (names.length && names.length !== rows.length) throw new KdnetError(`${file}: some lines have a name and some do not`);
  return { rows: rows.length, dim: rows[0]!.length, data: Float32Array.from(rows.flat()), names: names.length ? names : undefined };
}

export async function readVectors(file: string, dataset = 'data'): Promise<Vectors> {
  if (!fs.existsSync(file)) throw new KdnetError(`${file}: no such file`);
  const ext = path.extname(file).toLowerCase();
  let shape: number[];
  let data: Float32Array;
  if (ext === '.npy') ({ shape, data } = readNpy(file));
  else if (ext === '.h5' || ext === '.hdf5') {
    await hdf5Ready();
    ({ shape, data } = readHdf5Datasets(file, [dataset], 'convert-vectors').get(dataset)!);
  } else return readText(file);
  if (!shape.length) throw new KdnetError(`${file}: a scalar, not vectors`);
  const rows = shape[0]!;
  return { rows, dim: rows ? data.length / rows : 0, data };
}

export async function convertVectors(input: string, dbPath: string, o: ConvertVectorsOptions = {}, progress?: Progress): Promise<Vectors> {
  const v = await readVectors(input, o.dataset);
  log.info(`A total of ${v.rows} vectors of ${v.dim} values.`);
  await writeDatabase(dbPath, o.backend ?? 'lmdb', async (db) => {
    for (let i = 0; i < v.rows; i++) {
      const key = recordKey(i, o.keyWidth ?? 8) + (v.names ? `_${v.names[i]}` : '');
      const floatData = Array.from(v.data.subarray(i * v.dim, (i + 1) * v.dim));
      await db.put(key, encodeDatum({ channels: v.dim, height: 1, width: 1, float_data: floatData, label: 0 }));
      progress?.(i + 1, v.rows);
    }
  });
  return v;
}
