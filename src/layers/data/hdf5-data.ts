// HDF5Data: batches of rows from the datasets named after the tops, in the .h5 files listed by
// hdf5_data_param.source, with Caffe's cursor (row by row, next file at the end, optional shuffles).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type Shape } from '../layer.js';
import { SourceLayer } from './source-layer.js';
import { registerLayer } from '../registry.js';
import { hdf5FileProblem, readHdf5Datasets, type Hdf5Dataset } from '../../data/hdf5-file.js';
import { KdnetError } from '../../errors.js';
import { resolveDataPath } from '../../util/resolve-path.js';

/**
 * Caffe's source: a text file naming one .h5 file per line. Every listed file is checked up front (it exists
 * and carries HDF5's signature) so a bad line is named at set-up (the layer's, or an extractor's), not
 * hours later when the cursor gets there.
 */
export function readHdf5FileList(source: string, baseDir: string | undefined, fail: (message: string) => KdnetError): Array<{ file: string; line: number }> {
  const list = resolveDataPath(source, baseDir);
  if (!hdf5FileProblem(list)) {
    throw fail(`${source} is an HDF5 file, but hdf5_data_param.source names a text file listing .h5 files, one per line`);
  }
  let text: string;
  try {
    text = fs.readFileSync(list, 'utf8');
  } catch {
    throw fail(`cannot read the HDF5 file list ${source}`);
  }
  if (text.includes('\0')) throw fail(`${source} is binary data, but hdf5_data_param.source names a text file listing .h5 files, one per line`);
  const entries = text
    .split(/\r?\n/)
    .map((l, i) => ({ name: l.trim(), line: i + 1 }))
    .filter((e) => e.name)
    .map((e) => ({ name: e.name, line: e.line, file: resolveDataPath(e.name, baseDir, path.dirname(list)) }));
  if (!entries.length) throw fail(`the HDF5 file list ${source} names no files`);
  const problems = entries.flatMap((e) => {
    const problem = hdf5FileProblem(e.file);
    return problem ? [fail(`${list}:${e.line}: ${e.name}: ${problem}`)] : [];
  });
  if (problems.length) throw KdnetError.combine(problems);
  return entries;
}

export class HDF5DataLayer extends SourceLayer {
  private files: string[] = [];
  /** Line of each file in the list, for errors. */
  private listLines: number[] = [];
  private filePermutation: number[] = [];
  private currentFile = 0;
  private currentRow = 0;
  private rowPermutation: number[] = [];
  private datasets = new Map<string, Hdf5Dataset>();

  override readsDataSource(): boolean {
    return true;
  }

  setup(): Shape[] {
    const p = this.param.hdf5_data_param;
    if (!p || !p.source) throw this.error('hdf5_data_param.source is required', 'hdf5_data_param');
    if (!(p.batch_size > 0)) throw this.error('hdf5_data_param.batch_size must be positive', 'hdf5_data_param');
    if (!this.files.length) {
      const listed = readHdf5FileList(p.source, this.ctx.baseDir, (m) => this.error(m, 'hdf5_data_param.source'));
      this.files = listed.map((e) => e.file);
      this.listLines = listed.map((e) => e.line);
      this.filePermutation = this.files.map((_, i) => i);
      if (p.shuffle) this.ctx.rng.shuffle(this.filePermutation);
      this.currentFile = 0;
      this.load(this.filePermutation[0]!);
    }
    return (this.param.top as string[]).map((t) => [p.batch_size, ...this.datasets.get(t)!.shape.slice(1)]);
  }

  private load(index: number): void {
    const file = this.files[index]!;
    const tops = this.param.top as string[];
    const list = this.param.hdf5_data_param.source as string;
    this.datasets = readHdf5Datasets(file, tops, `layer "${this.name}" (${list}:${this.listLines[index] ?? '?'})`);
    const rows = this.datasets.get(tops[0]!)!.shape[0]!;
    for (const t of tops) {
      if (this.datasets.get(t)!.shape[0] !== rows) {
        throw this.error(`${file}: dataset '${t}' has ${this.datasets.get(t)!.shape[0]} rows but '${tops[0]}' has ${rows}`);
      }
    }
    this.rowPermutation = [...Array(rows).keys()];
    if (this.param.hdf5_data_param.shuffle) this.ctx.rng.shuffle(this.rowPermutation);
    this.currentRow = 0;
  }

  private next(): void {
    const rows = this.rowPermutation.length;
    if (++this.currentRow === rows) {
      if (this.files.length > 1) {
        if (++this.currentFile === this.files.length) {
          this.currentFile = 0;
          if (this.param.hdf5_data_param.shuffle) this.ctx.rng.shuffle(this.filePermutation);
        }
        this.load(this.filePermutation[this.currentFile]!);
      }
      this.currentRow = 0;
      if (this.param.hdf5_data_param.shuffle) this.ctx.rng.shuffle(this.rowPermutation);
    }
  }

  override saveState(): unknown {
    return { files: this.files, filePermutation: this.filePermutation, currentFile: this.currentFile, currentRow: this.currentRow, rowPermutation: this.rowPermutation };
  }

  override restoreState(state: unknown): void {
    const s = state as { files: string[]; filePermutation: number[]; currentFile: number; currentRow: number; rowPermutation: number[] };
    if (s.files.join('\n') !== this.files.join('\n')) return; // a different file list: start over, as Caffe does
    this.filePermutation = s.filePermutation;
    this.currentFile = s.currentFile;
    this.load(this.filePermutation[this.currentFile]!);
    this.rowPermutation = s.rowPermutation;
    this.currentRow = s.currentRow;
  }

  override forward(): tf.Tensor[] {
    const batch = this.param.hdf5_data_param.batch_size as number;
    const tops = this.param.top as string[];
    const out = tops.map((t) => {
      const d = this.datasets.get(t)!;
      return { rowSize: d.data.length / d.shape[0]!, buf: new Float32Array(batch * (d.data.length / d.shape[0]!)), shape: [batch, ...d.shape.slice(1)] };
    });
    for (let i = 0; i < batch; i++) {
      const row = this.rowPermutation[this.currentRow]!;
      tops.forEach((t, k) => {
        const d = this.datasets.get(t)!.data;
        const o = out[k]!;
        o.buf.set(d.subarray(row * o.rowSize, (row + 1) * o.rowSize), i * o.rowSize);
      });
      this.next();
    }
    return out.map((o) => tf.tensor(o.buf, o.shape));
  }

  compute(): tf.Tensor[] {
    return this.forward();
  }
}

registerLayer('HDF5Data', HDF5DataLayer);
