// Images through sharp (libvips), laid out as OpenCV and Caffe have them: C×H×W, colour channels in BGR
// order. Gray conversion uses OpenCV's fixed-point BGR2GRAY weights so PNG pixels match Caffe's exactly.
import fs from 'node:fs';
import sharp, { type OutputInfo } from 'sharp';
import { KdnetError } from '../errors.js';

export interface ImagePixels {
  channels: number;
  height: number;
  width: number;
  /** C×H×W, BGR for colour. */
  data: Uint8Array;
}

/** 'color': 3 channels (cv::IMREAD_COLOR); 'gray': 1 (IMREAD_GRAYSCALE); 'native': as stored (IMREAD_ANYCOLOR). */
export type ColorMode = 'color' | 'gray' | 'native';

export interface ResizeTo {
  height: number;
  width: number;
}

sharp.cache(false);

/** Decodes an image file's bytes (JPEG, PNG, ...) into C×H×W pixels, optionally resized (bilinear). */
export async function decodeImage(bytes: Uint8Array | string, color: ColorMode, where: string, resize?: ResizeTo): Promise<ImagePixels> {
  let raw: { data: Buffer; info: OutputInfo };
  try {
    let img = sharp(bytes);
    if (resize && resize.height > 0 && resize.width > 0) img = img.resize(resize.width, resize.height, { fit: 'fill', kernel: 'linear' });
    raw = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    const reason = typeof bytes === 'string' && !fs.existsSync(bytes) ? 'no such file' : (e as Error).message;
    throw new KdnetError(`${where}: cannot decode the image (${reason})`);
  }
  const { width, height, channels } = raw.info;
  const src = raw.data;
  const plane = width * height;
  // sharp yields gray, gray+alpha, RGB or RGBA interleaved; alpha is dropped as OpenCV does.
  const isGray = channels <= 2;
  const outChannels = color === 'gray' || (color === 'native' && isGray) ? 1 : 3;
  const out = new Uint8Array(outChannels * plane);
  for (let i = 0; i < plane; i++) {
    const p = i * channels;
    if (isGray) {
      const g = src[p]!;
      if (outChannels === 1) out[i] = g;
      else out[i] = out[plane + i] = out[2 * plane + i] = g;
      continue;
    }
    const r = src[p]!;
    const g = src[p + 1]!;
    const b = src[p + 2]!;
    if (outChannels === 1) out[i] = (b * 1868 + g * 9617 + r * 4899 + 8192) >> 14;
    else {
      out[i] = b;
      out[plane + i] = g;
      out[2 * plane + i] = r;
    }
  }
  return { channels: outChannels, height, width, data: out };
}

/** Encodes C×H×W BGR (or gray) pixels as PNG or JPEG (quality 95, OpenCV's default). */
export async function encodeImage(px: ImagePixels, type: string): Promise<Buffer> {
  const { channels, height, width, data } = px;
  const plane = width * height;
  const hwc = new Uint8Array(channels * plane);
  for (let i = 0; i < plane; i++) {
    if (channels === 1) hwc[i] = data[i]!;
    else {
      hwc[3 * i] = data[2 * plane + i]!;
      hwc[3 * i + 1] = data[plane + i]!;
      hwc[3 * i + 2] = data[i]!;
    }
  }
  const img = sharp(hwc, { raw: { width, height, channels: channels as 1 | 3 } });
  const t = type.toLowerCase().replace(/^\./, '');
  if (t === 'png') return img.png().toBuffer();
  if (t === 'jpg' || t === 'jpeg') return img.jpeg({ quality: 95 }).toBuffer();
  throw new KdnetError(`unsupported encode_type '${type}' (png or jpg)`);
}
