// Which key-value store a Caffe database folder is, and the one error for a missing or mismatched one.
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

/** The backend a database folder was written with, from the files each store keeps. */
export function detectBackend(dbPath: string): Backend | undefined {
  if (fs.existsSync(path.join(dbPath, 'data.mdb')) || (fs.statSync(dbPath, { throwIfNoEntry: false })?.isFile() ?? false)) return 'lmdb';
  if (fs.existsSync(path.join(dbPath, 'CURRENT'))) return 'leveldb';
  return undefined;
}

/** Checks that `dbPath` exists and is a database of `backend` (detected when omitted). */
export function checkDatabase(dbPath: string, backend?: Backend): Backend {
  if (!fs.existsSync(dbPath)) throw new KdnetError(`${dbPath}: no such database`);
  const found = detectBackend(dbPath);
  if (!found) throw new KdnetError(`${dbPath}: not an LMDB or LevelDB database (no data.mdb or CURRENT file)`);
  if (backend && found !== backend) {
    throw new KdnetError(`${dbPath}: this is a${found === 'lmdb' ? 'n LMDB' : ' LevelDB'} database but the backend is ${backend === 'lmdb' ? 'LMDB' : 'LEVELDB'} (set backend: ${found === 'lmdb' ? 'LMDB' : 'LEVELDB'})`);
  }
  return found;
}
