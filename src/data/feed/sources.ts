// Where samples come from: a Caffe database of Datum records (Data layer) or a list of image files with
// labels (ImageData layer). Each source is a cursor that wraps around at the end, as Caffe's readers do.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../../errors.js';
import { readUserText } from '../../util/read-text.js';
import { log } from '../../log.js';
import type { Rng } from '../../util/rng.js';
import { openDbReader, type Backend, type DbReader, type DbRecord } from '../db/index.js';
import { datumPixels, decodeDatum, type DatumPixels } from '../datum.js';
import { decodeImage, type ColorMode, type ResizeTo } from '../image.js';

export interface PendingSample {
  /** Names the record in errors: `db: record 'key'` or `list.txt:7: file`. */
  where: string;
  label: number;
  pixels(): Promise<DatumPixels>;
}

export interface SampleSource {
  next(): Promise<PendingSample>;
  /** The cursor, JSON-serializable, for exact resume from a snapshot. */
  saveState(): unknown;
  restoreState(state: unknown): Promise<void>;
  close(): Promise<void>;
}

export class DatumSource implements SampleSource {
  private iterator: AsyncIterator<DbRecord> | undefined;
  private records = 0;
  /** Records read since the cursor last started from the first one. */
  private position = 0;

  private constructor(
    private readonly reader: DbReader,
    private readonly color: ColorMode,
  ) {}

  static async open(dbPath: string, backend: Backend, color: ColorMode, skip: number): Promise<DatumSource> {
    const source = new DatumSource(await openDbReader(dbPath, backend), color);
    if (skip > 0) {
      log.info(`Skipping first ${skip} data points.`);
      try {
        for (let i = 0; i < skip; i++) await source.nextRecord();
      } catch (e) {
        await source.close().catch(() => {});
        throw e;
      }
    }
    return source;
  }

  private async nextRecord(): Promise<DbRecord> {
    for (let attempt = 0; attempt < 2; attempt++) {
      this.iterator ??= this.reader.records()[Symbol.asyncIterator]();
      const r = await this.iterator.next();
      if (!r.done) {
        this.records++;
        this.position++;
        return r.value;
      }
      this.iterator = undefined;
      this.position = 0;
      if (this.records === 0) break;
      log.info('Restarting data prefetching from start.');
    }
    throw new KdnetError(`${this.reader.path}: the database is empty`);
  }

  async next(): Promise<PendingSample> {
    const { key, value } = await this.nextRecord();
    const where = `${this.reader.path}: record '${key.toString('latin1')}'`;
    const datum = decodeDatum(value, where);
    return { where, label: datum.label, pixels: () => datumPixels(datum, where, this.color) };
  }

  saveState(): unknown {
    return { position: this.position };
  }

  async restoreState(state: unknown): Promise<void> {
    const { position } = state as { position: number };
    this.iterator = undefined;
    this.position = 0;
    for (let i = 0; i < position; i++) await this.nextRecord();
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

export interface ImageListEntry {
  file: string;
  label: number;
  line: number;
}

/** Caffe's ImageData list: "path label" per line, the label after the last space. */
export function readImageList(listFile: string): ImageListEntry[] {
  const text = readUserText(listFile, 'image list');
  const entries: ImageListEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const at = line.lastIndexOf(' ');
    const label = at > 0 ? Number(line.slice(at + 1)) : NaN;
    if (!Number.isInteger(label)) throw new KdnetError(`${listFile}:${i + 1}:1: expected "path label", got "${line}"`);
    entries.push({ file: line.slice(0, at).trim(), label, line: i + 1 });
  });
  if (!entries.length) throw new KdnetError(`${listFile}: the image list is empty`);
  return entries;
}

export interface ImageListOptions {
  listFile: string;
  /** Prepended to each path as Caffe does (string concatenation). */
  rootFolder: string;
  color: ColorMode;
  resize?: ResizeTo;
  shuffle: boolean;
  skip: number;
  /** Folders to resolve relative image paths against, after the working directory. */
  searchDirs: string[];
}

export class ImageListSource implements SampleSource {
  private readonly listed: ImageListEntry[];
  private entries: ImageListEntry[];
  private position = 0;
  /** RNG state before this epoch's shuffle: the order is rebuilt from it on resume. */
  private shuffleState: [number, number | null] | null = null;

  constructor(
    private readonly options: ImageListOptions,
    private readonly rng: Rng,
  ) {
    this.listed = readImageList(options.listFile);
    this.entries = this.listed;
    if (options.shuffle) {
      log.info('Shuffling data');
      this.shuffle();
    }
    log.info(`A total of ${this.entries.length} images.`);
    if (options.skip > 0) {
      log.info(`Skipping first ${options.skip} data points.`);
      this.position = options.skip % this.entries.length;
    }
  }

  /** A fresh permutation of the listed order each epoch (statistically Caffe's in-place reshuffle). */
  private shuffle(): void {
    this.shuffleState = this.rng.getState();
    this.entries = this.rng.shuffle([...this.listed]);
  }

  private resolve(file: string): string {
    const p = this.options.rootFolder + file;
    if (path.isAbsolute(p) || fs.existsSync(p)) return p;
    for (const d of this.options.searchDirs) if (fs.existsSync(path.join(d, p))) return path.join(d, p);
    return p;
  }

  async next(): Promise<PendingSample> {
    if (this.position >= this.entries.length) {
      log.info('Restarting data prefetching from start.');
      this.position = 0;
      if (this.options.shuffle) this.shuffle();
    }
    const e = this.entries[this.position++]!;
    const file = this.resolve(e.file);
    const where = `${this.options.listFile}:${e.line}: ${file}`;
    const pixels = () => decodeImage(file, this.options.color, where, this.options.resize);
    return { where, label: e.label, pixels };
  }

  saveState(): unknown {
    return { position: this.position, lines: this.listed.length, shuffleState: this.shuffleState };
  }

  async restoreState(state: unknown): Promise<void> {
    const s = state as { position: number; lines: number; shuffleState: [number, number | null] | null };
    if (s.lines !== this.listed.length) return; // another list: start over
    if (s.shuffleState && this.options.shuffle) {
      this.rng.setState(s.shuffleState);
      this.shuffle();
    }
    this.position = s.position;
  }

  async close(): Promise<void> {}
}
