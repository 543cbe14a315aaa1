// HDF5 files through h5wasm (the HDF5 C library compiled to wasm). Its module loads asynchronously once;
// initBackend awaits `hdf5Ready()` so layers can read synchronously during set-up and forward.
import fs from 'node:fs';
import h5wasm from 'h5wasm/node';
import { KdnetError } from '../errors.js';
import { writeFileAtomicWith } from '../util/atomic-write.js';

let ready = false;

export async function hdf5Ready(): Promise<void> {
  if (!ready) {
    await h5wasm.ready;
    ready = true;
  }
}

export interface Hdf5Dataset {
  shape: number[];
  data: Float32Array;
}

/** Reads the named datasets of an HDF5 file as float32 (Caffe's blobs are float). */
export function readHdf5Datasets(file: string, names: string[], context: string): Map<string, Hdf5Dataset> {
  return readHdf5(
    file,
    (f) => {
      const out = new Map<string, Hdf5Dataset>();
      const keys = f.keys();
      for (const name of names) {
        if (!keys.includes(name)) throw new KdnetError(`${context}: ${file} has no dataset '${name}' (it has ${keys.join(', ') || 'none'})`);
        const ds = f.get(name) as { shape: number[]; value: ArrayLike<number | bigint> } | undefined;
        if (!ds || !('shape' in ds)) throw new KdnetError(`${context}: '${name}' in ${file} is not a dataset`);
        let value: ArrayLike<number | bigint>;
        try {
          value = ds.value;
        } catch (e) {
          throw new KdnetError(`${context}: cannot read dataset '${name}' of ${file} (truncated or corrupt file?): ${(e as Error).message}`);
        }
        const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>, (v) => Number(v));
        out.set(name, { shape: [...ds.shape], data });
      }
      return out;
    },
    context,
  );
}

type H5Group = { keys(): string[]; get(path: string): unknown; create_group(name: string): unknown; create_dataset(o: object): unknown };

/** Writes an HDF5 file through `fill`, atomically (temporary sibling, every write checked, flush, rename). */
export function writeHdf5Atomic(file: string, fill: (root: H5Group) => void): void {
  if (!ready) throw new Error('hdf5Ready() was not awaited');
  writeFileAtomicWith(file, (tmp) => {
    const f = new h5wasm.File(tmp, 'w');
    try {
      fill(f as unknown as H5Group);
    } finally {
      f.close();
    }
  });
}

const SIGNATURE = Buffer.from('\x89HDF\r\n\x1a\n', 'latin1');

/**
 * Why `file` cannot be an HDF5 file (missing, a directory, no HDF5 signature), or undefined. Checked before
 * the HDF5 library sees the file: it would print dozens of HDF5-DIAG lines and say nothing clear. The
 * signature is at byte 0, or after a user block of 512, 1024, 2048, ... bytes.
 */
export function hdf5FileProblem(file: string): string | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 'no such file';
  if (stat.isDirectory()) return 'it is a directory';
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  try {
    const head = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= stat.size; offset = offset ? offset * 2 : 512) {
      if (fs.readSync(fd, head, 0, 8, offset) === 8 && head.equals(SIGNATURE)) return undefined;
    }
    const start = Buffer.alloc(Math.min(24, stat.size));
    fs.readSync(fd, start, 0, start.length, 0);
    const text = start.toString('latin1');
    const preview = stat.size === 0 ? 'it is empty' : /^[\t\n\r\x20-\x7e]+$/.test(text) ? `it starts with ${JSON.stringify(text)}` : `${stat.size} bytes`;
    return `not an HDF5 file (no HDF5 signature; ${preview})`;
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens an HDF5 file for reading and hands its root to `read`. */
export function readHdf5<T>(file: string, read: (root: H5Group) => T, context: string): T {
  if (!ready) throw new Error('hdf5Ready() was not awaited');
  const problem = hdf5FileProblem(file);
  if (problem) throw new KdnetError(`${context}: ${file}: ${problem}`);
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new h5wasm.File(file, 'r');
  } catch (e) {
    throw new KdnetError(`${context}: cannot open HDF5 file ${file} (${(e as Error).message})`);
  }
  // h5wasm reports a failed open as a negative id, not an exception.
  if (Number((f as unknown as { file_id: bigint | number }).file_id) < 0) {
    throw new KdnetError(`${context}: ${file}: the HDF5 library cannot open it although it carries HDF5's signature (truncated or damaged?)`);
  }
  try {
    return read(f as unknown as H5Group);
  } catch (e) {
    if (e instanceof KdnetError) throw e;
    throw new KdnetError(`${context}: cannot read HDF5 file ${file} (truncated or corrupt?): ${(e as Error).message}`);
  } finally {
    f.close();
  }
}
