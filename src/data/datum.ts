// Caffe's Datum record: encode/decode through the caffe.proto schema, and its pixels as a C×H×W array.
import { caffeType } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { decodeImage, type ColorMode, type ImagePixels } from './image.js';

export interface Datum {
  channels: number;
  height: number;
  width: number;
  data: Uint8Array;
  label: number;
  float_data: number[];
  encoded: boolean;
}

export function decodeDatum(bytes: Uint8Array, where: string): Datum {
  try {
    const m = caffeType('Datum').decode(bytes) as unknown as Partial<Datum>;
    return {
      channels: m.channels ?? 0,
      height: m.height ?? 0,
      width: m.width ?? 0,
      data: m.data ?? new Uint8Array(0),
      label: m.label ?? 0,
      float_data: m.float_data ?? [],
      encoded: m.encoded ?? false,
    };
  } catch (e) {
    throw new KdnetError(`${where}: not a Caffe Datum (${(e as Error).message})`);
  }
}

export function encodeDatum(d: Partial<Datum>): Uint8Array {
  const type = caffeType('Datum');
  return type.encode(type.fromObject(d)).finish();
}

/** Pixels of a Datum as C×H×W: raw bytes, float_data, or the decoded image (BGR like OpenCV). */
export type DatumPixels = ImagePixels | { channels: number; height: number; width: number; data: Float32Array };

export interface ChwShape {
  channels: number;
  height: number;
  width: number;
}

export function shapeText(s: ChwShape): string {
  return `${s.channels}×${s.height}×${s.width}`;
}

export function sameShape(a: ChwShape, b: ChwShape): boolean {
  return a.channels === b.channels && a.height === b.height && a.width === b.width;
}

/** A non-encoded Datum's values, checked against its declared shape. */
export function rawDatumPixels(d: Datum, where: string): DatumPixels {
  const size = d.channels * d.height * d.width;
  if (d.data.length) {
    if (d.data.length !== size) throw new KdnetError(`${where}: Datum holds ${d.data.length} bytes but its shape ${shapeText(d)} needs ${size}`);
    return { channels: d.channels, height: d.height, width: d.width, data: d.data };
  }
  if (d.float_data.length !== size) {
    throw new KdnetError(`${where}: Datum holds ${d.float_data.length} float_data values but its shape ${shapeText(d)} needs ${size}`);
  }
  return { channels: d.channels, height: d.height, width: d.width, data: Float32Array.from(d.float_data) };
}

/** Any Datum's pixels; encoded images are decoded (Caffe's DecodeDatumToCVMat / ...Native). */
export async function datumPixels(d: Datum, where: string, color: ColorMode = 'native'): Promise<DatumPixels> {
  if (!d.encoded) return rawDatumPixels(d, where);
  return decodeImage(d.data, color, where);
}
