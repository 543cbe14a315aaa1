// The atomic writer: whole files or nothing under the final name, one error naming the file and the cause.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeStaleTemporaries, temporarySibling, writeFileAtomic, writeFileAtomicWith } from '../../src/util/atomic-write.js';
import { KdnetError } from '../../src/errors.js';
import { simulateFullDisk } from '../support/disk-full.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-atomic-'));
const temporaries = () => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

afterEach(() => {
  vi.restoreAllMocks();
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes the whole file through short writes', () => {
    const real = fs.writeSync;
    // A file system that takes at most 1000 bytes a call: the writer must loop.
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: Uint8Array, offset = 0, length = data.byteLength - offset) =>
      (real as (...a: unknown[]) => number).call(fs, fd, data, offset, Math.min(length, 1000))) as typeof fs.writeSync);
    const data = Uint8Array.from({ length: 12345 }, (_, i) => i % 251);
    const file = path.join(dir, 'a.bin');
    writeFileAtomic(file, data);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(data);
    expect(temporaries()).toEqual([]);
  });

  it('fails on a full disk naming the file, the cause and the progress; the old file stays and the temporary goes', () => {
    const file = path.join(dir, 'snap_iter_2.solverstate');
    fs.writeFileSync(file, 'previous content');
    const disk = simulateFullDisk(1_417_216);
    let err: unknown;
    try {
      writeFileAtomic(file, new Uint8Array(1_724_471));
    } catch (e) {
      err = e;
    } finally {
      disk.restore();
    }
    expect(err).toBeInstanceOf(KdnetError);
    expect((err as KdnetError).message).toBe(`cannot write ${file}: no space left on device (1,417,216 of 1,724,471 bytes written)`);
    expect(fs.readFileSync(file, 'utf8')).toBe('previous content');
    expect(temporaries()).toEqual([]);
  });

  it('treats a write that makes no progress as a full disk instead of looping', () => {
    vi.spyOn(fs, 'writeSync').mockReturnValue(0);
    const file = path.join(dir, 'b.caffemodel');
    expect(() => writeFileAtomic(file, 'abc')).toThrow(`cannot write ${file}: no space left on device (0 of 3 bytes written)`);
    expect(fs.existsSync(file)).toBe(false);
    expect(temporaries()).toEqual([]);
  });

  it('names a missing folder', () => {
    const file = path.join(dir, 'no', 'such', 'x.bin');
    expect(() => writeFileAtomic(file, 'x')).toThrow(`cannot write ${file}: no such folder`);
  });
});

describe('writeFileAtomicWith', () => {
  it('passes a user error of the producer on unchanged and removes the temporary file', () => {
    const file = path.join(dir, 'c.h5');
    const err = new KdnetError('layer "x" has no blobs');
    expect(() =>
      writeFileAtomicWith(file, (tmp) => {
        fs.writeFileSync(tmp, 'partial');
        throw err;
      }),
    ).toThrow(err);
    expect(fs.existsSync(file)).toBe(false);
    expect(temporaries()).toEqual([]);
  });

  it('reports a failed write even when the producer swallows it', () => {
    const file = path.join(dir, 'd.h5');
    const disk = simulateFullDisk(10);
    try {
      expect(() =>
        writeFileAtomicWith(file, (tmp) => {
          const fd = fs.openSync(tmp, 'w');
          try {
            fs.writeSync(fd, Buffer.alloc(100)); // short: 10 bytes
            fs.writeSync(fd, Buffer.alloc(90)); // ENOSPC, ignored below as h5wasm does
          } catch {
            /* a library that prints the error and carries on */
          }
          fs.closeSync(fd);
        }),
      ).toThrow(`cannot write ${file}: no space left on device`);
    } finally {
      disk.restore();
    }
    expect(fs.existsSync(file)).toBe(false);
    expect(temporaries()).toEqual([]);
  });
});

describe('removeStaleTemporaries', () => {
  it('removes temporaries of dead processes for the targets asked about, and nothing else', () => {
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max: never a live process
    const stale = `.snap_iter_5.solverstate.${deadPid}.1700000000000.tmp`;
    const live = `.snap_iter_6.solverstate.${process.pid}.1700000000000.tmp`;
    const otherPrefix = `.other_iter_5.solverstate.${deadPid}.1700000000000.tmp`;
    const notOurs = '.snap_iter_5.solverstate.tmp';
    for (const f of [stale, live, otherPrefix, notOurs, 'snap_iter_4.solverstate']) fs.writeFileSync(path.join(dir, f), 'x');
    const removed = removeStaleTemporaries(dir, (target) => /^snap_iter_\d+\./.test(target));
    expect(removed).toEqual([path.join(dir, stale)]);
    expect(fs.readdirSync(dir).sort()).toEqual([live, otherPrefix, notOurs, 'snap_iter_4.solverstate'].sort());
  });

  it('names temporaries after the target, the process and the time', () => {
    expect(path.basename(temporarySibling('runs/a/lenet_iter_500.caffemodel'))).toMatch(new RegExp(`^\\.lenet_iter_500\\.caffemodel\\.${process.pid}\\.\\d+\\.tmp$`));
  });
});
