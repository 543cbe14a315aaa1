// Which key-value store a Caffe database path is, and the one error for a path that is not the database the
// net asks for. Both stores are directories: LMDB's holds data.mdb, LevelDB's holds CURRENT (with LOG,
// MANIFEST-* and *.ldb tables). Looking is read-only: nothing is opened or created before the path is known
// to be a database of the right kind.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../../errors.js';

export type Backend = 'lmdb' | 'leveldb';

/** Caffe's DataParameter.DB enum: LEVELDB = 0, LMDB = 1 (the default is LEVELDB). */
export function backendFromEnum(value: unknown): Backend {
  return value === 1 || value === 'LMDB' ? 'lmdb' : 'leveldb';
}

export function parseBackend(name: string): Backend {
  const b = name.toLowerCase();
  if (b !== 'lmdb' && b !== 'leveldb') throw new KdnetError(`unknown database backend '${name}' (expected lmdb or leveldb)`);
  return b;
}

const LMDB_MAGIC = 0xbeefc0de;

/** LMDB's data file starts with a meta page whose header (16 bytes) is followed by the magic number. */
function isLmdbDataFile(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(20);
      return fs.readSync(fd, b, 0, 20, 0) === 20 && b.readUInt32LE(16) === LMDB_MAGIC;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

export type DatabasePath =
  | { kind: 'missing' }
  | { kind: 'lmdb' | 'leveldb' }
  | { kind: 'file'; lmdbDataFile: boolean }
  | { kind: 'directory'; entries: string[] }
  | { kind: 'other' };

/** What `dbPath` is on disk, without opening it as a database. */
export function inspectDatabasePath(dbPath: string): DatabasePath {
  const stat = fs.statSync(dbPath, { throwIfNoEntry: false });
  if (!stat) return { kind: 'missing' };
  if (stat.isFile()) return { kind: 'file', lmdbDataFile: isLmdbDataFile(dbPath) };
  if (!stat.isDirectory()) return { kind: 'other' };
  if (fs.statSync(path.join(dbPath, 'data.mdb'), { throwIfNoEntry: false })?.isFile()) return { kind: 'lmdb' };
  if (fs.existsSync(path.join(dbPath, 'CURRENT'))) return { kind: 'leveldb' };
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dbPath).sort();
  } catch {
    // An unreadable folder is described as one without the files a database needs.
  }
  return { kind: 'directory', entries };
}

/** The backend a database folder was written with, from the files each store keeps. */
export function detectBackend(dbPath: string): Backend | undefined {
  const found = inspectDatabasePath(dbPath).kind;
  return found === 'lmdb' || found === 'leveldb' ? found : undefined;
}

const NAMES = { lmdb: 'LMDB', leveldb: 'LEVELDB' } as const;

function notADatabase(dbPath: string, found: DatabasePath): string {
  const expected = 'an LMDB is a directory holding data.mdb, a LevelDB one holding CURRENT';
  switch (found.kind) {
    case 'missing':
      return `${dbPath}: no such database`;
    case 'file':
      return found.lmdbDataFile
        ? `${dbPath}: this is the data file of an LMDB database: give its directory, ${path.dirname(dbPath)}`
        : `${dbPath}: a regular file, not a database: ${expected}`;
    case 'directory': {
      const list = found.entries.slice(0, 5).join(', ') + (found.entries.length > 5 ? `, ... (${found.entries.length} entries)` : '');
      if (found.entries.some((e) => /^MANIFEST-\d+$|\.ldb$/.test(e))) return `${dbPath}: a LevelDB database without its CURRENT file (damaged or still being written?)`;
      return `${dbPath}: ${found.entries.length ? `a directory holding ${list}` : 'an empty directory'}, not a database: ${expected}`;
    }
    default:
      return `${dbPath}: neither a file nor a directory, not a database: ${expected}`;
  }
}

/** Checks that `dbPath` is a database of `backend` (detected when omitted); returns its backend. */
export function checkDatabase(dbPath: string, backend?: Backend): Backend {
  const found = inspectDatabasePath(dbPath);
  if (found.kind !== 'lmdb' && found.kind !== 'leveldb') throw new KdnetError(notADatabase(dbPath, found));
  if (backend && found.kind !== backend) {
    const described = found.kind === 'lmdb' ? 'an LMDB' : 'a LevelDB';
    throw new KdnetError(`${dbPath}: this is ${described} database but the backend is ${NAMES[backend]} (set backend: ${NAMES[found.kind]})`);
  }
  return found.kind;
}
