// Writing a Caffe database atomically: records go into a temporary sibling folder, which is renamed to the
// target only once complete, so an interrupted conversion never leaves a half-written database behind.
import fs from 'node:fs';
import path from 'node:path';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import { ClassicLevel } from 'classic-level';
import { KdnetError } from '../../errors.js';
import { describeFsError } from '../../util/atomic-write.js';
import { requireCaffeLmdbFormat } from './lmdb-format.js';
import type { Backend } from './backend.js';

export interface DbWriter {
  readonly path: string;
  put(key: string | Buffer, value: Uint8Array): Promise<void>;
  /** Flushes, closes and moves the database into place. */
  finish(): Promise<void>;
  /** Drops the temporary folder (on error or interrupt). */
  abort(): Promise<void>;
}

/** Caffe commits every 1000 records; so does kdnet. */
const COMMIT_EVERY = 1000;

abstract class AtomicDbWriter implements DbWriter {
  protected readonly tmp: string;
  protected pending: Array<[Buffer, Uint8Array]> = [];
  private done = false;

  constructor(readonly path: string) {
    if (fs.existsSync(path)) throw new KdnetError(`${path} already exists (remove it first; kdnet does not overwrite a database)`);
    const dir = pathDir(path);
    if (!fs.existsSync(dir)) throw new KdnetError(`cannot create ${path}: no such directory ${dir}`);
    this.tmp = `${path}.${process.pid}.tmp`;
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  protected abstract flush(batch: Array<[Buffer, Uint8Array]>): Promise<void>;
  protected abstract close(): Promise<void>;

  async put(key: string | Buffer, value: Uint8Array): Promise<void> {
    this.pending.push([typeof key === 'string' ? Buffer.from(key) : key, value]);
    if (this.pending.length >= COMMIT_EVERY) await this.commit();
  }

  private async commit(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length) await this.failingAsUserError(() => this.flush(batch));
  }

  async finish(): Promise<void> {
    await this.commit();
    await this.failingAsUserError(async () => {
      await this.close();
      fs.renameSync(this.tmp, this.path);
    });
    this.done = true;
  }

  /**
   * A database binding's failure while writing (LMDB's "No space left on device", LevelDB's "IO error: ...")
   * is the user's disk, not a bug: one error naming the database and the cause.
   */
  private async failingAsUserError(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      if (e instanceof KdnetError) throw e;
      const cause = describeFsError(e) ?? (e as Error)?.message ?? String(e);
      throw new KdnetError(`cannot write the database ${this.path}: ${cause}`);
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.close().catch(() => {});
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

function pathDir(p: string): string {
  return path.dirname(path.resolve(p));
}

class LmdbWriter extends AtomicDbWriter {
  private db: RootDatabase<Buffer, Buffer>;
  constructor(target: string) {
    super(target);
    requireCaffeLmdbFormat();
    this.db = openLmdb<Buffer, Buffer>({ path: this.tmp, noSubdir: false, encoding: 'binary', keyEncoding: 'binary' });
  }
  protected async flush(batch: Array<[Buffer, Uint8Array]>): Promise<void> {
    this.db.transactionSync(() => {
      for (const [k, v] of batch) this.db.putSync(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    });
  }
  protected async close(): Promise<void> {
    await this.db.close();
  }
}

class LevelWriter extends AtomicDbWriter {
  private db: ClassicLevel<Buffer, Buffer>;
  constructor(target: string) {
    super(target);
    this.db = new ClassicLevel<Buffer, Buffer>(this.tmp, { keyEncoding: 'buffer', valueEncoding: 'buffer', errorIfExists: true });
  }
  protected async flush(batch: Array<[Buffer, Uint8Array]>): Promise<void> {
    await this.db.batch(batch.map(([key, v]) => ({ type: 'put' as const, key, value: Buffer.from(v.buffer, v.byteOffset, v.byteLength) })));
  }
  protected async close(): Promise<void> {
    await this.db.close();
  }
}

export function createDbWriter(dbPath: string, backend: Backend): DbWriter {
  return backend === 'lmdb' ? new LmdbWriter(dbPath) : new LevelWriter(dbPath);
}

/** Caffe's record keys: the index zero-padded to `width` digits (8 in convert_mnist_data, 10 in some forks). */
export function recordKey(index: number, width = 8): string {
  return String(index).padStart(width, '0');
}
