// Mean images: Caffe's binaryproto (a BlobProto 1×C×H×W) read and written, and the arithmetic mean of a
// database (tools/compute_image_mean).
import fs from 'node:fs';
import { caffeType } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface MeanImage {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

export function readMeanFile(file: string): MeanImage {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new KdnetError(`${file}: cannot read the mean file`);
  }
  let blob: { data?: number[]; shape?: { dim?: number[] }; num?: number; channels?: number; height?: number; width?: number };
  try {
    blob = caffeType('BlobProto').decode(bytes) as typeof blob;
  } catch (e) {
    throw new KdnetError(`${file}: not a binaryproto mean file (${(e as Error).message})`);
  }
  // Legacy num/channels/height/width, or shape { dim: 1 dim: C dim: H dim: W }.
  const dims = blob.shape?.dim?.length ? blob.shape.dim.map(Number) : [blob.num ?? 0, blob.channels ?? 0, blob.height ?? 0, blob.width ?? 0];
  const [channels = 0, height = 0, width = 0] = dims.length === 4 ? dims.slice(1) : dims.length === 3 ? dims : [dims[0] ?? 0, 1, 1];
  const data = Float32Array.from(blob.data ?? []);
  if (data.length !== channels * height * width || !data.length) {
    throw new KdnetError(`${file}: mean blob has ${data.length} values for shape ${dims.join('×')}`);
  }
  return { channels, height, width, data };
}

export function encodeMeanBlob(mean: MeanImage): Uint8Array {
  const type = caffeType('BlobProto');
  return type.encode(type.fromObject({ num: 1, channels: mean.channels, height: mean.height, width: mean.width, data: Array.from(mean.data) })).finish();
}

export function writeMeanFile(file: string, mean: MeanImage): void {
  writeFileAtomic(file, encodeMeanBlob(mean));
}
