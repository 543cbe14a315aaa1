// A disk with a given number of free bytes, for tests that must run anywhere (no tmpfs, no root): every
// fs.writeSync to a file (not the standard streams) succeeds until the budget is spent, the write that
// crosses it is short, and the next fails with ENOSPC — what the kernel does on a full file system. h5wasm
// writes through the same fs.writeSync, so HDF5 files see the same disk.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterAll, vi } from 'vitest';

export interface FullDisk {
  /** Bytes written so far. */
  used(): number;
  /** What reached the standard error stream through fs.writeSync meanwhile (where h5wasm prints). */
  stderr(): string;
  restore(): void;
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

export function simulateFullDisk(free: number): FullDisk {
  const real = fs.writeSync;
  let used = 0;
  let stderr = '';
  const spy = vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    const call = (...args: unknown[]) => (real as (...a: unknown[]) => number).call(fs, ...args);
    if (fd <= 2) {
      if (fd === 2) stderr += typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8', (rest[0] as number) ?? 0);
      return call(fd, data, ...rest);
    }
    const left = free - used;
    if (typeof data === 'string') {
      const size = Buffer.byteLength(data);
      if (size > left) throw enospc();
      used += size;
      return call(fd, data, ...rest);
    }
    const offset = (rest[0] as number | undefined) ?? 0;
    const length = (rest[1] as number | undefined) ?? data.byteLength - offset;
    if (left <= 0) throw enospc();
    const n = call(fd, data, offset, Math.min(length, left), rest[2] as number | null | undefined);
    used += n;
    return n;
  }) as typeof fs.writeSync);
  return { used: () => used, stderr: () => stderr, restore: () => spy.mockRestore() };
}

/**
 * A real full file system: a tmpfs of `size` (e.g. '1m') mounted on `dir`, unmounted after the file's tests.
 * Mounting needs root (or CAP_SYS_ADMIN); returns false where it is not permitted, so the tests skip.
 */
export function mountSmallTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return false;
  }
  afterAll(() => {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', dir]); // still busy: detach now, freed once the last file closes
    }
  });
  return true;
}
