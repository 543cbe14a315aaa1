// Reading a Caffe database in key order, on LMDB (lmdb, built with LMDB's classic data format) or LevelDB
// (classic-level). Both present the same cursor: records in key order, restarting at the end like Caffe.
import { open as openLmdb, type RootDatabase } from 'lmdb';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { ClassicLevel } from 'classic-level';
import { KdnetError } from '../../errors.js';
import { requireCaffeLmdbFormat } from './lmdb-format.js';
import { processAlive } from '../../util/atomic-write.js';
import { checkDatabase, type Backend } from './backend.js';

export interface DbRecord {
  key: Buffer;
  value: Buffer;
}

export interface DbReader {
  readonly path: string;
  readonly backend: Backend;
  /** Records in key order from the first. */
  records(): AsyncIterable<DbRecord>;
  count(): Promise<number>;
  close(): Promise<void>;
}

const VIEW_PREFIX = 'kdnet-lmdb-';

/** Views left by kdnet processes that died before closing their databases (a killed run, an exit mid-read). */
function removeStaleViews(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const pid = Number(/^kdnet-lmdb-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    fs.rmSync(nodePath.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * LMDB writes a lock file (lock.mdb) beside the data even to read, and cannot read where it cannot write one
 * (the binding offers no MDB_NOLOCK). kdnet opens the data file through a private folder holding a link to it:
 * the lock file is kdnet's own, a database in a read-only or shared folder reads as it is, and nothing is ever
 * written beside what the user named.
 */
class LmdbReader implements DbReader {
  readonly backend = 'lmdb' as const;
  private db: RootDatabase<Buffer, Buffer>;
  private readonly view: string;
  constructor(readonly path: string) {
    requireCaffeLmdbFormat();
    try {
      removeStaleViews();
      this.view = fs.mkdtempSync(nodePath.join(os.tmpdir(), `${VIEW_PREFIX}${process.pid}-`));
    } catch (e) {
      throw new KdnetError(`${path}: cannot create the private folder kdnet reads LMDB through in ${os.tmpdir()} (set TMPDIR): ${(e as Error).message}`);
    }
    try {
      fs.symlinkSync(nodePath.resolve(path, 'data.mdb'), nodePath.join(this.view, 'data.mdb'));
      this.db = openLmdb<Buffer, Buffer>({ path: this.view, encoding: 'binary', keyEncoding: 'binary', readOnly: true });
    } catch (e) {
      fs.rmSync(this.view, { recursive: true, force: true });
      throw new KdnetError(`${path}: cannot open the LMDB database: ${(e as Error).message}`);
    }
  }
  async *records(): AsyncIterable<DbRecord> {
    // Values are copied: the binding may reuse its read buffer for the next record.
    for (const { key, value } of this.db.getRange()) yield { key: Buffer.from(key), value: Buffer.from(value) };
  }
  async count(): Promise<number> {
    return (this.db.getStats() as { entryCount: number }).entryCount;
  }
  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      fs.rmSync(this.view, { recursive: true, force: true });
    }
  }
}

class LevelReader implements DbReader {
  readonly backend = 'leveldb' as const;
  private db: ClassicLevel<Buffer, Buffer>;
  private opened: Promise<void>;
  constructor(readonly path: string) {
    this.db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: false });
    this.opened = this.db.open().catch((e: Error & { cause?: Error }) => {
      const reason = e.cause?.message ?? e.message;
      const hint = /lock/i.test(reason) ? ' (LevelDB allows one open handle at a time, as in Caffe: is another net or process reading it? LMDB has no such limit)' : '';
      throw new KdnetError(`${path}: cannot open the LevelDB database: ${reason}${hint}`);
    });
  }
  async *records(): AsyncIterable<DbRecord> {
    await this.opened;
    const it = this.db.iterator();
    try {
      for (;;) {
        const entries = await it.nextv(256);
        if (!entries.length) return;
        for (const [key, value] of entries) yield { key, value };
      }
    } finally {
      await it.close();
    }
  }
  async count(): Promise<number> {
    await this.opened;
    let n = 0;
    for await (const _ of this.db.keys()) n++;
    return n;
  }
  async close(): Promise<void> {
    await this.opened.catch(() => {});
    await this.db.close();
  }
}

export async function openDbReader(dbPath: string, backend?: Backend): Promise<DbReader> {
  const found = checkDatabase(dbPath, backend);
  const reader = found === 'lmdb' ? new LmdbReader(dbPath) : new LevelReader(dbPath);
  if (reader instanceof LevelReader) await (reader as unknown as { opened: Promise<void> }).opened;
  return reader;
}
