// Nothing a user made is lost: a file is written whole to a temporary sibling, flushed, renamed over the
// target, and the folder entry is flushed too. A write that cannot complete (full disk, quota, read-only or
// I/O error) removes the temporary file and fails with one error naming the file and the cause; whatever
// was under the target name before stays as it was.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';

/** `.<name>.<pid>.<ms>.tmp` beside the target: hidden, and traceable to the process that made it. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

export function temporarySibling(file: string): string {
  const dir = path.dirname(path.resolve(file));
  return path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
}

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/** A file-system error in words ("no space left on device"), or undefined for anything that is not one. */
export function describeFsError(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  return CAUSES[code] ?? (e as Error).message;
}

/** A write that made no progress: what the kernel reports as a full disk. */
class ShortWrite extends Error {
  readonly code = 'ENOSPC';
  constructor() {
    super('ENOSPC: no space left on device, write (a write made no progress)');
  }
}

/** Thrown by writeFully: the cause, and how far the write got. */
class PartialWrite extends Error {
  constructor(
    readonly reason: unknown,
    readonly written: number,
    readonly total: number,
  ) {
    super((reason as Error).message);
  }
}

/** Writes all of `data` at the descriptor's position, looping over short writes; no progress is a failure. */
export function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  try {
    while (done < data.length) {
      const n = fs.writeSync(fd, data, done, data.length - done);
      if (!(n > 0)) throw new ShortWrite();
      done += n;
    }
  } catch (e) {
    throw new PartialWrite(e, done, data.length);
  }
}

/** The one error for a file that could not be written; undefined when `e` is not a file-system error. */
export function writeError(file: string, e: unknown, what = 'write'): KdnetError | undefined {
  const partial = e instanceof PartialWrite ? e : undefined;
  const cause = describeFsError(partial ? partial.reason : e);
  if (cause === undefined) return undefined;
  const progress = partial && partial.total > 0 ? ` (${partial.written.toLocaleString('en-US')} of ${partial.total.toLocaleString('en-US')} bytes written)` : '';
  return new KdnetError(`cannot ${what} ${file}: ${cause}${progress}`);
}

/**
 * Runs `fn` while watching every fs.writeSync it causes; throws the first failed write if there was one (it
 * names the cause better than what a library makes of it), else what `fn` threw. Libraries that write through
 * Node's fs themselves (h5wasm: HDF5 compiled to wasm) may report a failed write only on their own error
 * stream and carry on, leaving a file with holes; their fs.writeSync call is the one place a full disk shows.
 * What they print to stderr meanwhile (HDF5's error stack, 100 lines for one full disk) is held back, and
 * shown only when there is no failed write to report in one line.
 */
function watchingWrites(fn: () => void): void {
  const mutable = fs as { writeSync: typeof fs.writeSync };
  const original = mutable.writeSync as (...a: unknown[]) => number;
  let failure: unknown;
  const heldStderr: Buffer[] = [];
  mutable.writeSync = function watchedWriteSync(this: unknown, fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) {
    if (fd === 2) return holdStderr(heldStderr, data, rest);
    try {
      return original.call(fs, fd, data, ...rest);
    } catch (e) {
      if (fd > 2) failure ??= e; // fd 1 is the command's output, not the file being made
      throw e;
    }
  } as typeof fs.writeSync;
  try {
    fn();
  } catch (e) {
    throw e instanceof PartialWrite ? e : (failure ?? e); // writeFully's own report carries the progress
  } finally {
    mutable.writeSync = original as typeof fs.writeSync;
    if (!failure && heldStderr.length) original.call(fs, 2, Buffer.concat(heldStderr));
  }
  if (failure) throw failure;
}

/** Keeps one fs.writeSync(2, ...) call's bytes; returns the count written, as the call would. */
function holdStderr(held: Buffer[], data: string | NodeJS.ArrayBufferView, rest: unknown[]): number {
  if (typeof data === 'string') {
    held.push(Buffer.from(data, (rest[1] as BufferEncoding | undefined) ?? 'utf8'));
    return held.at(-1)!.length;
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const offset = (rest[0] as number | undefined) ?? 0;
  const length = (rest[1] as number | undefined) ?? bytes.length - offset;
  held.push(Buffer.from(bytes.subarray(offset, offset + length)));
  return length;
}

/**
 * Makes `file` atomically from whatever `produce` writes at the temporary path it is given (created empty
 * beforehand, so that a folder that takes no file fails here with its cause): produce, check that no write
 * failed, fsync, rename, fsync the folder. On failure the temporary file is removed and the error is one
 * KdnetError naming `file` (errors that are not the file system's are passed on unchanged).
 */
export function writeFileAtomicWith(file: string, produce: (tmp: string) => void): void {
  const tmp = temporarySibling(file);
  try {
    fs.closeSync(fs.openSync(tmp, 'wx'));
    watchingWrites(() => produce(tmp));
    const fd = fs.openSync(tmp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e) ?? e;
  }
  syncFolder(path.dirname(path.resolve(file)));
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  writeFileAtomicWith(file, (tmp) => {
    const fd = fs.openSync(tmp, 'w');
    try {
      writeFully(fd, bytes);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** The rename is durable only once the folder entry is flushed too. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* some file systems do not allow fsync on folders; the data itself is flushed */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Whether a process of this id exists (ours to signal or not): for cleaning up what dead runs left. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that kdnet processes no longer running left in `dir` (a kill -9 mid-write) for
 * targets `belongs` accepts. Only kdnet's own temporary names are considered. Returns the removed paths.
 */
export function removeStaleTemporaries(dir: string, belongs: (target: string) => boolean): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || !belongs(m[1]!)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      fs.rmSync(p);
      removed.push(p);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}
