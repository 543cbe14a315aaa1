// Images through sharp (libvips), laid out as OpenCV and Caffe have them: C×H×W, colour channels in BGR
// order. Colour to gray uses the integer weights OpenCV's imread applies (libpng's for PNG, cvtColor's
// otherwise), so gray pixels match Caffe's.
import fs from 'node:fs';
import sharp, { type OutputInfo } from 'sharp';
import { KdnetError } from '../errors.js';
import { resizeLinear } from './resize.js';

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

/** Decodes an image file's bytes (JPEG, PNG, ...) into C×H×W pixels, optionally resized as cv::resize does. */
export async function decodeImage(bytes: Uint8Array | string, color: ColorMode, where: string, resize?: ResizeTo): Promise<ImagePixels> {
  if (typeof bytes === 'string') {
    try {
      bytes = await fs.promises.readFile(bytes);
    } catch {
      throw new KdnetError(`${where}: cannot decode the image (no such file)`);
    }
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    // sharp hands out gray files as RGB unless told; OpenCV keeps them gray (IMREAD_ANYCOLOR).
    const sourceGray = (headerChannels(bytes) ?? (await sharp(bytes).metadata()).channels ?? 3) <= 2;
    let img = sharp(bytes);
    if (sourceGray) img = img.toColourspace('b-w');
    raw = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new KdnetError(`${where}: cannot decode the image (${(e as Error).message})`);
  }
  const { width, height, channels } = raw.info;
  const src = raw.data;
  const plane = width * height;
  // sharp yields gray, gray+alpha, RGB or RGBA interleaved; alpha is dropped as OpenCV does.
  const isGray = channels <= 2;
  // OpenCV converts PNGs to gray inside libpng (truncating 15-bit weights), everything else with cvtColor.
  const png = isPng(bytes);
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
    if (outChannels === 1) out[i] = png ? (r * 9798 + g * 19235 + b * 3735) >> 15 : (b * 1868 + g * 9617 + r * 4899 + 8192) >> 14;
    else {
      out[i] = b;
      out[plane + i] = g;
      out[2 * plane + i] = r;
    }
  }
  const decoded = { channels: outChannels, height, width, data: out };
  // Caffe resizes after loading (and after the gray conversion), with OpenCV's bilinear rule.
  return resize && resize.height > 0 && resize.width > 0 ? resizeLinear(decoded, resize.height, resize.width) : decoded;
}

/**
 * Colour channels a PNG or baseline/progressive JPEG declares in its header, read without decoding (asking
 * sharp for metadata costs a second pass per image); undefined for other formats.
 */
function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 25 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

function headerChannels(bytes: Uint8Array): number | undefined {
  // PNG: IHDR colour type at byte 25 (0 gray, 4 gray+alpha, 2 RGB, 3 palette, 6 RGBA).
  if (isPng(bytes)) {
    const type = bytes[25];
    return type === 0 ? 1 : type === 4 ? 2 : 3;
  }
  // JPEG: the component count of the first start-of-frame segment.
  if (bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    while (at + 9 < bytes.length && bytes[at] === 0xff) {
      const marker = bytes[at + 1]!;
      const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[at + 9];
      at += 2 + length;
    }
  }
  return undefined;
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
  let img = sharp(hwc, { raw: { width, height, channels: channels as 1 | 3 } });
  // Without this sharp writes gray pixels as an RGB file; OpenCV writes a gray one.
  if (channels === 1) img = img.toColourspace('b-w');
  const t = type.toLowerCase().replace(/^\./, '');
  if (t === 'png') return img.png().toBuffer();
  if (t === 'jpg' || t === 'jpeg') return img.jpeg({ quality: 95 }).toBuffer();
  throw new KdnetError(`unsupported encode_type '${type}' (png or jpg)`);
}
