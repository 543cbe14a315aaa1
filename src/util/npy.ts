// NumPy .npy arrays: a magic string, a Python-literal header ({'descr', 'fortran_order', 'shape'}) and the
// raw data. Read as float32 the way numpy's astype(np.float32) would (bool, ints, float16/64, either byte
// order, C or Fortran order); what has no float value (strings, objects, complex) or is cut short is one
// error naming the file. Written as little-endian float32 in C order.
import fs from 'node:fs';
import { KdnetError, type ErrorWhere } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

type Reader = (view: DataView, offset: number, little: boolean) => number;

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** kind + item size → how one value reads. */
const READERS: Record<string, Reader> = {
  b1: (v, o) => (v.getUint8(o) ? 1 : 0),
  i1: (v, o) => v.getInt8(o),
  u1: (v, o) => v.getUint8(o),
  i2: (v, o, le) => v.getInt16(o, le),
  u2: (v, o, le) => v.getUint16(o, le),
  i4: (v, o, le) => v.getInt32(o, le),
  u4: (v, o, le) => v.getUint32(o, le),
  i8: (v, o, le) => Number(v.getBigInt64(o, le)),
  u8: (v, o, le) => Number(v.getBigUint64(o, le)),
  f2: (v, o, le) => half(v.getUint16(o, le)),
  f4: (v, o, le) => v.getFloat32(o, le),
  f8: (v, o, le) => v.getFloat64(o, le),
};

const SUPPORTED = 'bool, int8/16/32/64, uint8/16/32/64 and float16/32/64 (converted to float32)';

const UNSUPPORTED_KINDS: Record<string, string> = {
  c: 'complex numbers',
  U: 'a string array',
  S: 'a byte-string array',
  a: 'a byte-string array',
  O: 'pickled Python objects',
  V: 'raw or structured records',
  M: 'dates',
  m: 'time spans',
};

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataStart: number;
}

function parseHeader(bytes: Buffer, fail: (why: string) => KdnetError): Header {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') {
    if (bytes.toString('latin1', 0, 4) === 'PK\x03\x04') throw fail('an .npz archive, not an .npy array: save one array with np.save (or extract it)');
    throw fail('not a .npy file (it does not start with \\x93NUMPY)');
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw fail(`.npy format version ${major}.${bytes[7]} is not one numpy writes (1.0, 2.0, 3.0)`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw fail('truncated inside its header');
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataStart = 8 + lengthBytes + headerLength;
  if (bytes.length < dataStart) throw fail(`truncated inside its header (${headerLength} bytes announced, ${bytes.length - 8 - lengthBytes} present)`);
  const text = bytes.toString(major === 3 ? 'utf8' : 'latin1', 8 + lengthBytes, dataStart);
  const descr = /['"]descr['"]\s*:\s*(?:'([^']*)'|"([^"]*)"|(\[))/.exec(text);
  const order = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !order || !shape) throw fail(`its header is not a numpy array header: ${JSON.stringify(text.trim().slice(0, 120))}`);
  if (descr[3]) throw fail('a structured array (named fields) cannot be read as numbers: save a plain numeric array');
  const dims = shape[1]!
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  if (dims.some((d) => !/^\d+L?$/.test(d))) throw fail(`its header has an unreadable shape (${shape[1]})`);
  return { descr: descr[1] ?? descr[2]!, fortranOrder: order[1] === 'True', shape: dims.map((d) => parseInt(d, 10)), dataStart };
}

/** C-order copy of an array stored in Fortran order (first axis fastest). */
function fromFortranOrder(values: Float32Array, shape: number[]): Float32Array {
  if (shape.length < 2 || values.length === 0) return values;
  const n = shape.length;
  const strides = shape.map((_, k) => shape.slice(0, k).reduce((a, b) => a * b, 1));
  const index = new Array<number>(n).fill(0);
  const out = new Float32Array(values.length);
  let offset = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = values[offset]!;
    for (let k = n - 1; k >= 0; k--) {
      offset += strides[k]!;
      if (++index[k]! < shape[k]!) break;
      offset -= shape[k]! * strides[k]!;
      index[k] = 0;
    }
  }
  return out;
}

/** Decodes .npy bytes as float32; `file` names the array in errors. */
export function decodeNpy(bytes: Buffer, file: string, where: ErrorWhere = {}): NpyArray {
  const fail = (why: string) => new KdnetError(`${file}: ${why}`, where);
  const h = parseHeader(bytes, fail);
  const shapeText = `(${h.shape.join(', ')}${h.shape.length === 1 ? ',' : ''})`;
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(\[.*\])?$/.exec(h.descr);
  const kind = m?.[2] === '?' ? 'b' : m?.[2];
  const read = m && !m[4] ? READERS[`${kind}${m[3]}`] : undefined;
  if (!read) {
    const what = kind && UNSUPPORTED_KINDS[kind] ? ` (${UNSUPPORTED_KINDS[kind]})` : '';
    throw fail(`dtype '${h.descr}'${what} cannot be read as numbers: kdnet reads ${SUPPORTED}`);
  }
  const itemSize = Number(m![3]);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const have = bytes.length - h.dataStart;
  if (have < count * itemSize) {
    throw fail(
      `truncated: its header says shape ${shapeText} of '${h.descr}', ${count} values in ${count * itemSize} bytes, but only ${have} bytes follow the ${h.dataStart}-byte header`,
    );
  }
  const little = m![1] !== '>';
  let values: Float32Array;
  if (kind === 'f' && itemSize === 4 && little) {
    values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + h.dataStart, bytes.byteOffset + h.dataStart + count * 4));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + h.dataStart, count * itemSize);
    values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = read(view, i * itemSize, little);
  }
  return { data: h.fortranOrder ? fromFortranOrder(values, h.shape) : values, shape: h.shape };
}

/** Reads a .npy file as float32; `where` (a blob, a layer) is attached to any error. */
export function readNpy(file: string, where: ErrorWhere = {}): NpyArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KdnetError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`, where);
  }
  return decodeNpy(bytes, file, where);
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
