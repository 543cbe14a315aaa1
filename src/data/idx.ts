// IDX files (the MNIST / Fashion-MNIST distribution format), gzip'd or not: magic 0x0000 08 <ndims>,
// big-endian int32 dims, then uint8 values.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { KdnetError } from '../errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function readIdx(file: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new KdnetError(`cannot read ${file}: no such file`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      throw new KdnetError(`${file}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw new KdnetError(`${file}: not an IDX file of unsigned bytes (magic ${bytes.subarray(0, 4).toString('hex')})`);
  }
  const ndims = bytes[3]!;
  const dims = Array.from({ length: ndims }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndims;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - offset !== count) {
    throw new KdnetError(`${file}: holds ${bytes.length - offset} values but its header says ${dims.join('×')} = ${count} (truncated?)`);
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + offset, count) };
}

export function encodeIdx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
