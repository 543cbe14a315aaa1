// NumPy .npy arrays: read with npyjs, written here (header + little-endian data; the format is a few lines).
import fs from 'node:fs';
import { parse } from 'npyjs';
import { KdnetError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

export interface NpyArray {
  data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | Int8Array | Int16Array | Uint16Array | Uint32Array;
  shape: number[];
  dtype: string;
}

export function readNpy(file: string): { data: Float32Array; shape: number[] } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new KdnetError(`cannot read ${file}: no such file`);
  }
  let arr: NpyArray;
  try {
    arr = parse(new Uint8Array(bytes).buffer as ArrayBuffer) as unknown as NpyArray;
  } catch (e) {
    throw new KdnetError(`${file}: not a readable .npy file (${(e as Error).message})`);
  }
  if ((arr as { fortranOrder?: boolean }).fortranOrder) throw new KdnetError(`${file}: Fortran-ordered arrays are not supported (save with C order)`);
  const data =
    arr.data instanceof Float32Array
      ? arr.data
      : arr.data instanceof BigInt64Array
        ? Float32Array.from(arr.data, (v) => Number(v))
        : Float32Array.from(arr.data as ArrayLike<number>);
  return { data, shape: [...arr.shape] };
}

export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  writeFileAtomic(file, encodeNpy(data, shape));
}
