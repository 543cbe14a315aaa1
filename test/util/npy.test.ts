// .npy files written byte by byte (magic, version, header, data) as numpy would, read as float32; files
// that cannot be numbers are one error naming the file. Cross-checked against numpy itself when present.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeNpy, encodeNpy, readNpy } from '../../src/util/npy.js';
import { KdnetError } from '../../src/errors.js';

/** An .npy file as numpy lays it out: header padded with spaces to a multiple of 64 bytes, ending in \n. */
function npyRaw(dict: string, data: Buffer, version: 1 | 2 | 3 = 1): Buffer {
  const prefix = version === 1 ? 10 : 12;
  const header = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const head = Buffer.alloc(prefix);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = version;
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

function npyBytes(descr: string, shape: number[], data: Buffer, o: { fortran?: boolean; version?: 1 | 2 | 3 } = {}): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return npyRaw(`{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`, data, o.version);
}

/** `values` written one after another with a Buffer writer (writeInt16LE, writeFloatBE, ...). */
function bytesOf<T extends number | bigint>(size: number, write: (b: Buffer, v: T, offset: number) => unknown, values: T[]): Buffer {
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => write(b, v, i * size));
  return b;
}

function read(bytes: Buffer) {
  const { data, shape } = decodeNpy(bytes, 'x.npy');
  return { data: Array.from(data), shape };
}

function failure(bytes: Buffer): string {
  try {
    decodeNpy(bytes, 'x.npy');
  } catch (e) {
    expect(e).toBeInstanceOf(KdnetError);
    return (e as KdnetError).message;
  }
  throw new Error('expected an error');
}

describe('reading .npy as numpy would convert to float32', () => {
  it('little-endian float32 in versions 1, 2 and 3', () => {
    const data = Buffer.from(new Float32Array([1.5, -2, 3.25, 0, 5, 6]).buffer);
    for (const version of [1, 2, 3] as const) expect(read(npyBytes('<f4', [2, 3], data, { version }))).toEqual({ data: [1.5, -2, 3.25, 0, 5, 6], shape: [2, 3] });
  });

  it('bool, integers of every width and sign, big-endian floats, float64 and float16', () => {
    expect(read(npyBytes('|b1', [3], Buffer.from([1, 0, 1])))).toEqual({ data: [1, 0, 1], shape: [3] });
    expect(read(npyBytes('|i1', [2], bytesOf(1, (b, v, o) => b.writeInt8(v, o), [-128, 127])))).toEqual({ data: [-128, 127], shape: [2] });
    expect(read(npyBytes('|u1', [2], Buffer.from([0, 255])))).toEqual({ data: [0, 255], shape: [2] });
    expect(read(npyBytes('<i2', [2], bytesOf(2, (b, v, o) => b.writeInt16LE(v, o), [-300, 300])))).toEqual({ data: [-300, 300], shape: [2] });
    expect(read(npyBytes('>u2', [2], bytesOf(2, (b, v, o) => b.writeUInt16BE(v, o), [1, 65535])))).toEqual({ data: [1, 65535], shape: [2] });
    expect(read(npyBytes('<i4', [2], bytesOf(4, (b, v, o) => b.writeInt32LE(v, o), [-7, 2 ** 30])))).toEqual({ data: [-7, 2 ** 30], shape: [2] });
    expect(read(npyBytes('<i8', [2], bytesOf(8, (b, v: bigint, o) => b.writeBigInt64LE(v, o), [-5n, 1n << 40n])))).toEqual({ data: [-5, 2 ** 40], shape: [2] });
    expect(read(npyBytes('<u8', [1], bytesOf(8, (b, v: bigint, o) => b.writeBigUInt64LE(v, o), [(1n << 64n) - 1n])))).toEqual({ data: [2 ** 64], shape: [1] });
    expect(read(npyBytes('>f4', [2], bytesOf(4, (b, v, o) => b.writeFloatBE(v, o), [0.5, -3])))).toEqual({ data: [0.5, -3], shape: [2] });
    // float64 rounds to the nearest float32.
    expect(read(npyBytes('<f8', [2], bytesOf(8, (b, v, o) => b.writeDoubleLE(v, o), [0.1, 1e40])))).toEqual({ data: [Math.fround(0.1), Infinity], shape: [2] });
    // float16: 1.0, -2.0, 65504 (largest), 2^-24 (smallest subnormal), inf, NaN.
    const halves = Buffer.alloc(12);
    [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00].forEach((h, i) => halves.writeUInt16LE(h, i * 2));
    expect(read(npyBytes('<f2', [6], halves)).data).toEqual([1, -2, 65504, 2 ** -24, Infinity, NaN]);
  });

  it('Fortran order becomes C order', () => {
    // A (2, 3, 4) array whose element [i][j][k] is 100i + 10j + k, stored first axis fastest.
    const values: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) values.push(100 * i + 10 * j + k);
    const got = read(npyBytes('<f4', [2, 3, 4], Buffer.from(new Float32Array(values).buffer), { fortran: true }));
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) want.push(100 * i + 10 * j + k);
    expect(got).toEqual({ data: want, shape: [2, 3, 4] });
  });

  it('0-d and empty arrays, and what kdnet writes reads back', () => {
    expect(read(npyBytes('<f4', [], Buffer.from(new Float32Array([7]).buffer)))).toEqual({ data: [7], shape: [] });
    expect(read(npyBytes('<f4', [0, 3], Buffer.alloc(0)))).toEqual({ data: [], shape: [0, 3] });
    expect(read(encodeNpy(new Float32Array([1, 2, 3, 4]), [2, 1, 2]))).toEqual({ data: [1, 2, 3, 4], shape: [2, 1, 2] });
  });
});

describe('what has no float32 value, or is cut short, is one error naming the file', () => {
  it('unsupported dtypes list what kdnet reads', () => {
    const cases: Array<[string, RegExp]> = [
      ['<c8', /dtype '<c8' \(complex numbers\)/],
      ['<U5', /dtype '<U5' \(a string array\)/],
      ['|S3', /dtype '\|S3' \(a byte-string array\)/],
      ['|O', /dtype '\|O' \(pickled Python objects\)/],
      ['<M8[ns]', /dtype '<M8\[ns\]' \(dates\)/],
      ['|V8', /dtype '\|V8' \(raw or structured records\)/],
      ['<f16', /dtype '<f16'/],
    ];
    for (const [descr, pattern] of cases) {
      const message = failure(npyBytes(descr, [2], Buffer.alloc(64)));
      expect(message).toMatch(/^x\.npy: /);
      expect(message).toMatch(pattern);
      expect(message).toContain('kdnet reads bool, int8/16/32/64, uint8/16/32/64 and float16/32/64 (converted to float32)');
    }
    const structured = npyRaw("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }", Buffer.alloc(16));
    expect(failure(structured)).toMatch(/x\.npy: .*structured array/);
  });

  it('truncated data, a header claiming more than the file holds, a cut header, not .npy at all', () => {
    const full = npyBytes('<f4', [2, 3], Buffer.from(new Float32Array(6).buffer));
    expect(failure(full.subarray(0, full.length - 4))).toBe("x.npy: truncated: its header says shape (2, 3) of '<f4', 6 values in 24 bytes, but only 20 bytes follow the 128-byte header");
    expect(failure(npyBytes('<f8', [1000], Buffer.alloc(80)))).toMatch(/shape \(1000,\) of '<f8', 1000 values in 8000 bytes, but only 80 bytes follow/);
    expect(failure(full.subarray(0, 40))).toMatch(/^x\.npy: truncated inside its header \(118 bytes announced, 30 present\)$/);
    expect(failure(Buffer.from('1,2,3\n4,5,6\n'))).toMatch(/^x\.npy: not a \.npy file/);
    expect(failure(Buffer.from('PK\x03\x04 rest of a zip', 'latin1'))).toMatch(/an \.npz archive, not an \.npy array/);
    expect(failure(npyRaw("{'descr': '<f4', 'fortran_order': False, }", Buffer.alloc(4)))).toMatch(/its header is not a numpy array header/);
  });

  it('a missing file names it', () => {
    expect(() => readNpy('/nonexistent/x.npy')).toThrow('cannot read /nonexistent/x.npy: no such file');
  });
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasNumpy)('numpy agrees', () => {
  it('files numpy writes read as numpy converts them to float32', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-npy-'));
    const script = `
import numpy as np, sys
d = sys.argv[1]
base = (np.arange(24).reshape(2, 3, 4) - 11) * 1.37
arrays = {
  'f8': base, 'f2': base.astype(np.float16), 'be': base.astype('>f4'), 'i8': base.astype(np.int64),
  'u1': np.abs(base).astype(np.uint8), 'b': base > 0, 'fortran': np.asfortranarray(base.astype(np.float32)),
  'fortran_be_i2': np.asfortranarray(base.astype('>i2')), 'scalar': np.float64(2.5),
}
for name, a in arrays.items():
  np.save(f'{d}/{name}.npy', a)
  np.save(f'{d}/{name}.want.npy', np.asarray(a).astype(np.float32, order='C'))
np.save(f'{d}/strings.npy', np.array(['a', 'bc']))
np.save(f'{d}/complex.npy', np.ones(2, np.complex64))
`;
    const r = spawnSync('python3', ['-c', script, dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const name of ['f8', 'f2', 'be', 'i8', 'u1', 'b', 'fortran', 'fortran_be_i2', 'scalar']) {
      const got = readNpy(path.join(dir, `${name}.npy`));
      const want = readNpy(path.join(dir, `${name}.want.npy`));
      expect(got.shape, name).toEqual(want.shape);
      expect(Array.from(got.data), name).toEqual(Array.from(want.data));
    }
    expect(() => readNpy(path.join(dir, 'strings.npy'))).toThrow(/strings\.npy: dtype '<U2' \(a string array\)/);
    expect(() => readNpy(path.join(dir, 'complex.npy'))).toThrow(/complex\.npy: dtype '<c8' \(complex numbers\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
