// WindowData's source (R-CNN detection training): a window file lists images and, per image, boxes with a
// class and their overlap with the ground truth. Each batch takes fg_fraction of its windows at random from
// the foreground boxes (overlap ≥ fg_threshold) and the rest from the background ones (overlap <
// bg_threshold, label 0); each box is grown by context padding (optionally made square), clipped to the
// image, warped to crop_size, randomly mirrored, zero-padded where it left the image, mean-subtracted and
// scaled, with the arithmetic of Caffe's window_data_layer.cpp (single precision, C rounding).
import fs from 'node:fs';
import path from 'node:path';
import { resizeLinear } from '../resize.js';
import { KdnetError } from '../../errors.js';
import { readUserText } from '../../util/read-text.js';
import { log } from '../../log.js';
import type { Rng } from '../../util/rng.js';
import { decodeImage, type ImagePixels } from '../image.js';
import { readMeanFile, type MeanImage } from '../mean.js';
import type { TransformSettings } from '../transform.js';
import type { Batch } from './batch.js';
import type { FeedSource } from './protocol.js';

export type WindowsFeedSource = Extract<FeedSource, { kind: 'windows' }>;

/** Caffe decodes every image as 3-channel colour (cv::IMREAD_COLOR). */
export const WINDOW_CHANNELS = 3;

export interface WindowImage {
  /** root_folder + the listed path, resolved against the search folders. */
  path: string;
  /** Line of the image path in the window file. */
  line: number;
  /** The file's bytes when cache_images is set (Caffe caches the encoded file too). */
  bytes?: Uint8Array;
}

export interface WindowBox {
  /** The block's image_index as written in the file (Caffe looks the image up by it, in file order). */
  image: number;
  /** 0 for background windows. */
  label: number;
  overlap: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  line: number;
}

export interface WindowFile {
  images: WindowImage[];
  fg: WindowBox[];
  bg: WindowBox[];
}

export interface WindowFileOptions {
  rootFolder: string;
  searchDirs: string[];
  fgThreshold: number;
  bgThreshold: number;
  cacheImages: boolean;
}

interface Token {
  text: string;
  line: number;
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const f32 = Math.fround;

/** C's round(): halves away from zero. */
function cRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function resolveImage(p: string, searchDirs: string[]): string {
  if (path.isAbsolute(p) || fs.existsSync(p)) return p;
  for (const d of searchDirs) if (fs.existsSync(path.join(d, p))) return path.join(d, p);
  return p;
}

/**
 * Reads a window file: blocks of `# image_index`, the image path, channels, height, width, the number of
 * windows, then one `class_index overlap x1 y1 x2 y2` line per window. Like Caffe's stream reading, the
 * header values may share lines; each window must be on a line of its own. Windows between bg_threshold and
 * fg_threshold are dropped, as in Caffe.
 */
export function readWindowFile(file: string, options: WindowFileOptions): WindowFile {
  const text = readUserText(file, 'window file');
  const tokens: Token[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    for (const t of raw.trim().split(/\s+/)) if (t) tokens.push({ text: t, line: i + 1 });
  });
  if (!tokens.length) throw new KdnetError(`${file}: the window file is empty`);
  const lastLine = tokens[tokens.length - 1]!.line;

  let pos = 0;
  const next = (what: string): Token => {
    const t = tokens[pos++];
    if (!t) throw new KdnetError(`${file}:${lastLine}: the file ends where ${what} was expected`);
    return t;
  };
  const int = (t: Token, what: string): number => {
    const v = Number(t.text);
    if (!INT.test(t.text) || !Number.isSafeInteger(v) || Math.abs(v) > 2147483647) {
      throw new KdnetError(`${file}:${t.line}: expected an integer ${what}, got "${t.text}"`);
    }
    return v;
  };
  const float = (t: Token, what: string): number => {
    if (!FLOAT.test(t.text) || !Number.isFinite(Number(t.text))) throw new KdnetError(`${file}:${t.line}: expected a number ${what}, got "${t.text}"`);
    return f32(Number(t.text));
  };

  const fgThreshold = f32(options.fgThreshold);
  const bgThreshold = f32(options.bgThreshold);
  const images: WindowImage[] = [];
  const blocks: { index: number; line: number }[] = [];
  const fg: WindowBox[] = [];
  const bg: WindowBox[] = [];
  const classes = new Map<number, number>([[0, 0]]);
  while (pos < tokens.length) {
    const hash = next('"#"');
    if (hash.text !== '#') throw new KdnetError(`${file}:${hash.line}: expected "# image_index" starting an image block, got "${hash.text}"`);
    const index = int(next('the image index'), 'image index');
    const pathToken = next('the image path');
    const channelsToken = next('the channel count');
    const channels = int(channelsToken, 'channel count');
    if (channels !== WINDOW_CHANNELS) {
      throw new KdnetError(
        `${file}:${channelsToken.line}: channels is ${channels}, but WindowData reads every image as 3-channel colour (as Caffe's cv::imread does), so it must be 3`,
      );
    }
    int(next('the image height'), 'image height');
    int(next('the image width'), 'image width');
    const countToken = next('the number of windows');
    const count = int(countToken, 'number of windows');
    if (count < 0) throw new KdnetError(`${file}:${countToken.line}: negative number of windows ${count}`);
    images.push({ path: resolveImage(options.rootFolder + pathToken.text, options.searchDirs), line: pathToken.line });
    blocks.push({ index, line: hash.line });
    for (let i = 0; i < count; i++) {
      const first = tokens[pos];
      if (!first || first.text === '#') {
        throw new KdnetError(`${file}:${first?.line ?? lastLine}: the image block at line ${hash.line} announces ${count} windows but has ${i}`);
      }
      const fields = tokens.slice(pos, pos + 6);
      pos += 6;
      if (fields.length < 6 || fields.some((t) => t.line !== first.line) || tokens[pos]?.line === first.line) {
        const line = tokens.filter((t) => t.line === first.line).map((t) => t.text);
        throw new KdnetError(`${file}:${first.line}: a window is "class_index overlap x1 y1 x2 y2" on one line, got "${line.join(' ')}"`);
      }
      const [label, overlap, x1, y1, x2, y2] = [
        int(fields[0]!, 'class index'),
        float(fields[1]!, 'overlap'),
        int(fields[2]!, 'x1'),
        int(fields[3]!, 'y1'),
        int(fields[4]!, 'x2'),
        int(fields[5]!, 'y2'),
      ];
      const box: WindowBox = { image: index, label, overlap, x1, y1, x2, y2, line: first.line };
      if (overlap >= fgThreshold) {
        if (!(label > 0)) {
          throw new KdnetError(`${file}:${first.line}: a foreground window (overlap ${overlap} ≥ fg_threshold ${fgThreshold}) needs a class index > 0, got ${label}`);
        }
        fg.push(box);
        classes.set(label, (classes.get(label) ?? 0) + 1);
      } else if (overlap < bgThreshold) {
        bg.push({ ...box, label: 0, overlap: 0 });
        classes.set(0, classes.get(0)! + 1);
      }
    }
  }

  // Caffe indexes its image list (in file order) with the block's image_index.
  const used = new Set([...fg, ...bg].map((w) => w.image));
  blocks.forEach((b, position) => {
    if (!used.has(b.index)) return;
    if (b.index < 0 || b.index >= images.length) {
      throw new KdnetError(`${file}:${b.line}: image_index ${b.index} is not one of the ${images.length} listed images (0 to ${images.length - 1}, in file order)`);
    }
    if (b.index !== position) {
      log.warn(`${file}:${b.line}: image_index ${b.index} is not the block's position ${position}: as in Caffe, its windows are cropped from image ${b.index} (${images[b.index]!.path})`);
    }
  });
  const windowImages = new Set([...fg, ...bg].map((w) => w.image));
  images.forEach((img, i) => {
    const where = `${file}:${img.line}: ${img.path}`;
    if (options.cacheImages) {
      try {
        img.bytes = fs.readFileSync(img.path);
      } catch {
        throw new KdnetError(`${where}: cannot read the image (${fs.existsSync(img.path) ? 'not readable' : 'no such file'})`);
      }
    } else if (windowImages.has(i) && !fs.existsSync(img.path)) {
      throw new KdnetError(`${where}: cannot read the image (no such file)`);
    }
  });

  log.info(`Number of images: ${images.length}`);
  for (const [label, n] of [...classes].sort((a, b) => a[0] - b[0])) log.info(`class ${label} has ${n} samples`);
  return { images, fg, bg };
}

/** Where a window lands in its crop_size × crop_size output. */
export interface WindowPlacement {
  /** The image region read (inclusive), inside the image. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** The size the region is warped to. */
  width: number;
  height: number;
  /** Offset of the warped region in the output (the rest stays zero). */
  padW: number;
  padH: number;
}

/**
 * Caffe's window geometry: without context padding or square mode the box is warped to the whole crop;
 * otherwise it is grown so that context_pad output pixels surround it (square mode first makes it square
 * around its centre), clipped to the image, and the clipped part warped to its share of the output.
 * Returns a reason string when the window cannot be cropped (Caffe stops on an assertion there).
 */
export function placeWindow(
  box: { x1: number; y1: number; x2: number; y2: number },
  imageWidth: number,
  imageHeight: number,
  cropSize: number,
  contextPad: number,
  square: boolean,
  mirror: boolean,
): WindowPlacement | string {
  let { x1, y1, x2, y2 } = box;
  let width = cropSize;
  let height = cropSize;
  let padW = 0;
  let padH = 0;
  if (contextPad > 0 || square) {
    const contextScale = f32(cropSize / (cropSize - 2 * contextPad));
    let halfHeight = f32((y2 - y1 + 1) / 2);
    let halfWidth = f32((x2 - x1 + 1) / 2);
    const centerX = f32(x1 + halfWidth);
    const centerY = f32(y1 + halfHeight);
    if (square) {
      if (halfHeight > halfWidth) halfWidth = halfHeight;
      else halfHeight = halfWidth;
    }
    x1 = cRound(f32(centerX - f32(halfWidth * contextScale)));
    x2 = cRound(f32(centerX + f32(halfWidth * contextScale)));
    y1 = cRound(f32(centerY - f32(halfHeight * contextScale)));
    y2 = cRound(f32(centerY + f32(halfHeight * contextScale)));
    const unclippedHeight = y2 - y1 + 1;
    const unclippedWidth = x2 - x1 + 1;
    let padX1 = Math.max(0, -x1);
    let padY1 = Math.max(0, -y1);
    let padX2 = Math.max(0, x2 - imageWidth + 1);
    const padY2 = Math.max(0, y2 - imageHeight + 1);
    x1 += padX1;
    x2 -= padX2;
    y1 += padY1;
    y2 -= padY2;
    if (x1 > x2 || y1 > y2) return `the padded window ${x1 - padX1} ${y1 - padY1} ${x2 + padX2} ${y2 + padY2} lies outside the ${imageWidth}×${imageHeight} image`;
    const scaleX = f32(cropSize / unclippedWidth);
    const scaleY = f32(cropSize / unclippedHeight);
    width = cRound(f32((x2 - x1 + 1) * scaleX));
    height = cRound(f32((y2 - y1 + 1) * scaleY));
    padX1 = cRound(f32(padX1 * scaleX));
    padX2 = cRound(f32(padX2 * scaleX));
    padY1 = cRound(f32(padY1 * scaleY));
    padH = padY1;
    // Mirroring mirrors the padding too.
    padW = mirror ? padX2 : padX1;
    // Rounding may make the warped region plus padding overflow the crop.
    if (padH + height > cropSize) height = cropSize - padH;
    if (padW + width > cropSize) width = cropSize - padW;
    if (width <= 0 || height <= 0) return `the part of the padded window inside the image warps to ${width}×${height} pixels`;
  } else if (x1 < 0 || y1 < 0 || x2 >= imageWidth || y2 >= imageHeight || x1 > x2 || y1 > y2) {
    return `the window is not inside the ${imageWidth}×${imageHeight} image (0 ≤ x1 ≤ x2 < width, 0 ≤ y1 ≤ y2 < height)`;
  }
  return { x1, y1, x2, y2, width, height, padW, padH };
}

/** The region of C×H×W pixels, interleaved (H×W×C), warped to `width`×`height` as cv::resize does. */
export function warpRegion(px: ImagePixels, r: WindowPlacement): Uint8Array {
  const { channels, width: imageWidth, height: imageHeight } = px;
  const plane = imageWidth * imageHeight;
  const rw = r.x2 - r.x1 + 1;
  const rh = r.y2 - r.y1 + 1;
  const region = new Uint8Array(rw * rh * channels);
  for (let c = 0; c < channels; c++) {
    for (let h = 0; h < rh; h++) {
      const src = c * plane + (r.y1 + h) * imageWidth + r.x1;
      region.set(px.data.subarray(src, src + rw), (c * rh + h) * rw);
    }
  }
  const warped = resizeLinear({ channels, height: rh, width: rw, data: region }, r.height, r.width).data;
  const out = new Uint8Array(warped.length);
  const wPlane = r.width * r.height;
  for (let i = 0; i < wPlane; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = warped[c * wPlane + i]!;
  return out;
}

export class WindowSampler {
  private readonly cropSize: number;
  private readonly mirror: boolean;
  private readonly scale: number;
  private readonly mean: MeanImage | undefined;
  private readonly meanOffset: number;
  private readonly meanValues: number[];

  private constructor(
    private readonly source: WindowsFeedSource,
    private readonly windows: WindowFile,
    settings: TransformSettings,
    private readonly rng: Rng,
  ) {
    this.cropSize = settings.cropSize;
    this.mirror = settings.mirror;
    this.scale = f32(settings.scale);
    if (settings.meanFile) {
      const mean = readMeanFile(settings.meanFile);
      // Caffe centres the crop in the mean with an offset taken from its width, for rows and columns alike.
      const offset = Math.trunc((mean.width - this.cropSize) / 2);
      if (mean.channels !== WINDOW_CHANNELS || offset < 0 || offset + this.cropSize > mean.height || offset + this.cropSize > mean.width) {
        throw new KdnetError(
          `${settings.meanFile}: the ${mean.channels}×${mean.height}×${mean.width} mean cannot cover a ${WINDOW_CHANNELS}×${this.cropSize}×${this.cropSize} window crop (centred at offset ${offset})`,
        );
      }
      this.mean = mean;
      this.meanOffset = offset;
    } else {
      this.meanOffset = 0;
    }
    const mv = settings.meanValues.map(f32);
    if (mv.length > 1 && mv.length !== WINDOW_CHANNELS) throw new KdnetError(`transform_param: specify either 1 mean_value or as many as channels: ${WINDOW_CHANNELS}`);
    this.meanValues = mv.length === 1 ? new Array<number>(WINDOW_CHANNELS).fill(mv[0]!) : mv;
  }

  static open(source: WindowsFeedSource, settings: TransformSettings, batchSize: number, rng: Rng): WindowSampler {
    log.info(
      `Window data layer: foreground (object) overlap threshold: ${source.fgThreshold}, background (non-object) overlap threshold: ${source.bgThreshold}, foreground sampling fraction: ${source.fgFraction}, cache_images: ${source.cacheImages}, root_folder: ${source.rootFolder}`,
    );
    const windows = readWindowFile(source.windowFile, source);
    log.info(`Amount of context padding: ${source.contextPad}`);
    log.info(`Crop mode: ${source.cropMode}`);
    const sampler = new WindowSampler(source, windows, settings, rng);
    const fgCount = sampler.foregroundCount(batchSize);
    if (fgCount > 0 && !windows.fg.length) {
      throw new KdnetError(`${source.windowFile}: no foreground windows (overlap ≥ fg_threshold ${source.fgThreshold}), but fg_fraction ${source.fgFraction} asks for ${fgCount} per batch`);
    }
    if (batchSize - fgCount > 0 && !windows.bg.length) {
      throw new KdnetError(
        `${source.windowFile}: no background windows (overlap < bg_threshold ${source.bgThreshold}), but fg_fraction ${source.fgFraction} leaves ${batchSize - fgCount} per batch to them`,
      );
    }
    return sampler;
  }

  /** Caffe: static_cast<int>(float(batch_size) * fg_fraction), truncated. */
  foregroundCount(batchSize: number): number {
    return Math.trunc(f32(batchSize * f32(this.source.fgFraction)));
  }

  /** Caffe's PrefetchRand(): a 32-bit unsigned draw. */
  private draw(): number {
    return Math.floor(this.rng.uniform() * 4294967296);
  }

  /** One batch: the background windows first, then the foreground ones, each drawn with replacement. */
  async nextBatch(batchSize: number): Promise<Batch> {
    const crop = this.cropSize;
    const size = WINDOW_CHANNELS * crop * crop;
    const data = new Float32Array(batchSize * size);
    const labels = new Float32Array(batchSize);
    const numFg = this.foregroundCount(batchSize);
    const picks: { box: WindowBox; mirror: boolean }[] = [];
    for (const [list, n] of [
      [this.windows.bg, batchSize - numFg],
      [this.windows.fg, numFg],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const box = list[this.draw() % list.length]!;
        const mirror = this.mirror && this.draw() % 2 === 1;
        picks.push({ box, mirror });
      }
    }
    const decoded = new Map<number, Promise<ImagePixels>>();
    const decode = (index: number): Promise<ImagePixels> => {
      let p = decoded.get(index);
      if (!p) {
        const img = this.windows.images[index]!;
        p = decodeImage(img.bytes ?? img.path, 'color', `${this.source.windowFile}:${img.line}: ${img.path}`);
        decoded.set(index, p);
      }
      return p;
    };
    await Promise.all(
      picks.map(async ({ box, mirror }, item) => {
        await this.write(await decode(box.image), box, mirror, data, item * size);
        labels[item] = box.label;
      }),
    );
    return { shape: [batchSize, WINDOW_CHANNELS, crop, crop], data, labels };
  }

  /** Crops, warps and mirrors one window into `out` at `offset`, then subtracts the mean and scales. */
  private async write(px: ImagePixels, box: WindowBox, mirror: boolean, out: Float32Array, offset: number): Promise<void> {
    const crop = this.cropSize;
    const place = placeWindow(box, px.width, px.height, crop, this.source.contextPad, this.source.cropMode === 'square', mirror);
    if (typeof place === 'string') {
      const img = this.windows.images[box.image]!;
      throw new KdnetError(`${this.source.windowFile}:${box.line}: window ${box.x1} ${box.y1} ${box.x2} ${box.y2} of ${img.path}: ${place}`);
    }
    const warped = warpRegion(px, place);
    const { width, height, padW, padH } = place;
    const { mean, meanOffset, meanValues, scale } = this;
    for (let c = 0; c < WINDOW_CHANNELS; c++) {
      const mv = meanValues.length ? meanValues[c]! : 0;
      for (let h = 0; h < height; h++) {
        const row = offset + (c * crop + h + padH) * crop + padW;
        const meanRow = mean ? (c * mean.height + h + meanOffset + padH) * mean.width + meanOffset + padW : 0;
        for (let w = 0; w < width; w++) {
          // cv::flip after the warp: output column w holds the warped column width − 1 − w.
          const pixel = warped[(h * width + (mirror ? width - 1 - w : w)) * WINDOW_CHANNELS + c]!;
          if (mean) out[row + w] = f32(pixel - mean.data[meanRow + w]!) * scale;
          else if (meanValues.length) out[row + w] = f32(pixel - mv) * scale;
          else out[row + w] = pixel * scale;
        }
      }
    }
  }

  async close(): Promise<void> {}
}
