// Writing soft targets: float Datums (D×1×1 float_data, the source record's label) under the source's keys in
// an LMDB/LevelDB, or an HDF5 file with `data` (N×D), `keys` (N strings) and `label` (N). Either is built
// under a temporary sibling name and renamed into place when complete, metadata included, so an interrupted
// run leaves nothing half-written; an existing output is replaced only with `force`, and only once the new
// one is complete.
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { KdnetError } from '../errors.js';
import { createDbWriter, type DbWriter } from '../data/db/index.js';
import { encodeDatum } from '../data/datum.js';
import { hdf5Ready } from '../data/hdf5-file.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { META_ATTRIBUTE, META_FILE, metaToJson, type ExtractMeta } from './metadata.js';

export type TargetFormat = 'lmdb' | 'leveldb' | 'hdf5';

export function parseTargetFormat(name: string): TargetFormat {
  const f = name.toLowerCase();
  if (f === 'lmdb' || f === 'leveldb' || f === 'hdf5') return f;
  throw new KdnetError(`unknown output format '${name}' (expected lmdb, leveldb or hdf5)`);
}

/** The format asked for, else HDF5 for a .h5/.hdf5 name and LMDB for anything else. */
export function targetFormatFor(out: string, format?: string): TargetFormat {
  if (format) return parseTargetFormat(format);
  return /\.(h5|hdf5)$/i.test(out) ? 'hdf5' : 'lmdb';
}

/** Checked before any work: the folder exists, and an existing output is replaced only when forced. */
export function checkTargetPath(out: string, force: boolean): void {
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir)) throw new KdnetError(`cannot create ${out}: no such directory ${dir}`);
  if (fs.existsSync(out) && !force) throw new KdnetError(`${out} already exists (use --force to replace it once the new one is complete)`);
}

export interface TargetWriter {
  put(key: Buffer, label: number, values: ArrayLike<number>): Promise<void>;
  /** Writes the metadata and moves the output into place. */
  finish(meta: ExtractMeta): Promise<void>;
  /** Removes everything written so far (error or interrupt). */
  abort(): Promise<void>;
}

export async function createTargetWriter(out: string, format: TargetFormat, force: boolean): Promise<TargetWriter> {
  checkTargetPath(out, force);
  const staging = `${out}.${process.pid}.part`;
  fs.rmSync(staging, { recursive: true, force: true });
  if (format === 'hdf5') {
    await hdf5Ready();
    return new Hdf5TargetWriter(out, staging, force);
  }
  return new DbTargetWriter(out, staging, force, createDbWriter(staging, format));
}

/** Renames the complete `staging` to `out`; a forced replacement sets the old output aside until then. */
function moveIntoPlace(staging: string, out: string, force: boolean): void {
  if (!fs.existsSync(out)) {
    fs.renameSync(staging, out);
    return;
  }
  if (!force) throw new KdnetError(`${out} appeared while extracting (use --force to replace it)`);
  const old = `${out}.${process.pid}.old`;
  fs.renameSync(out, old);
  fs.renameSync(staging, out);
  fs.rmSync(old, { recursive: true, force: true });
}

class DbTargetWriter implements TargetWriter {
  constructor(
    private readonly out: string,
    private readonly staging: string,
    private readonly force: boolean,
    private readonly db: DbWriter,
  ) {}

  async put(key: Buffer, label: number, values: ArrayLike<number>): Promise<void> {
    await this.db.put(key, encodeDatum({ channels: values.length, height: 1, width: 1, float_data: Array.from(values), label }));
  }

  async finish(meta: ExtractMeta): Promise<void> {
    await this.db.finish();
    try {
      writeFileAtomic(path.join(this.staging, META_FILE), metaToJson(meta));
      moveIntoPlace(this.staging, this.out, this.force);
    } catch (e) {
      fs.rmSync(this.staging, { recursive: true, force: true });
      throw e;
    }
  }

  async abort(): Promise<void> {
    await this.db.abort();
    fs.rmSync(this.staging, { recursive: true, force: true });
  }
}

type H5File = InstanceType<typeof h5wasm.File>;
type H5Dataset = { resize(shape: number[]): void; write_slice(ranges: number[][], data: Float32Array): void };

/** Rows are buffered and appended to a resizable `data` dataset, so the set need not fit in memory. */
const FLUSH_ROWS = 1024;

class Hdf5TargetWriter implements TargetWriter {
  private file: H5File | undefined;
  private data: H5Dataset | undefined;
  private dim = 0;
  private rows = 0;
  private buffered: number[][] = [];
  private readonly keys: string[] = [];
  private readonly labels: number[] = [];

  constructor(
    private readonly out: string,
    private readonly staging: string,
    private readonly force: boolean,
  ) {
    this.file = new h5wasm.File(staging, 'w');
  }

  async put(key: Buffer, label: number, values: ArrayLike<number>): Promise<void> {
    this.keys.push(key.toString('latin1'));
    this.labels.push(label);
    this.buffered.push(Array.from(values));
    if (this.buffered.length >= FLUSH_ROWS) this.flush();
  }

  private flush(): void {
    const rows = this.buffered;
    if (!rows.length) return;
    this.buffered = [];
    if (!this.data) {
      this.dim = rows[0]!.length;
      this.data = this.file!.create_dataset({
        name: 'data',
        data: new Float32Array(0),
        shape: [0, this.dim],
        maxshape: [null, this.dim],
        chunks: [Math.min(FLUSH_ROWS, Math.max(1, Math.floor(262144 / Math.max(1, this.dim)))), this.dim],
      }) as unknown as H5Dataset;
    }
    const block = new Float32Array(rows.length * this.dim);
    rows.forEach((r, i) => block.set(r, i * this.dim));
    this.data.resize([this.rows + rows.length, this.dim]);
    this.data.write_slice([[this.rows, this.rows + rows.length], [0, this.dim]], block);
    this.rows += rows.length;
  }

  async finish(meta: ExtractMeta): Promise<void> {
    try {
      this.flush();
      const f = this.file!;
      if (!this.data) f.create_dataset({ name: 'data', data: new Float32Array(0), shape: [0, meta.dim ?? 0] });
      // An empty list has no type to guess: say it holds strings.
      f.create_dataset(this.keys.length ? { name: 'keys', data: this.keys } : { name: 'keys', data: [], dtype: 'S' });
      f.create_dataset({ name: 'label', data: Float32Array.from(this.labels), shape: [this.labels.length] });
      f.create_attribute(META_ATTRIBUTE, metaToJson(meta));
      f.close();
      this.file = undefined;
      const fd = fs.openSync(this.staging, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      moveIntoPlace(this.staging, this.out, this.force);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    try {
      this.file?.close();
    } catch {
      /* already unusable: removed below */
    }
    this.file = undefined;
    fs.rmSync(this.staging, { force: true });
  }
}
