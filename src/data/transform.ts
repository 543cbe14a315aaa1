// Caffe's DataTransformer: crop (random in TRAIN, central in TEST), random mirror, mean subtraction (mean file
// indexed before cropping, or per-channel mean values), then scale, in that order, per sample.
import { KdnetError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import { readMeanFile, type MeanImage } from './mean.js';
import type { ColorMode } from './image.js';

export interface TransformSettings {
  scale: number;
  mirror: boolean;
  cropSize: number;
  meanFile?: string;
  meanValues: number[];
  forceColor: boolean;
  forceGray: boolean;
}

/** Reads transform_param (defaults as in caffe.proto). `resolve` maps the mean file to a path. */
export function transformSettings(p: Record<string, any> | undefined | null, resolve: (f: string) => string = (f) => f): TransformSettings {
  const meanFile = p?.mean_file ? resolve(p.mean_file as string) : undefined;
  const meanValues = ((p?.mean_value as number[] | undefined) ?? []).map(Number);
  if (meanFile && meanValues.length) throw new KdnetError('transform_param: cannot specify mean_file and mean_value at the same time');
  if (p?.force_color && p?.force_gray) throw new KdnetError('transform_param: force_color and force_gray cannot both be set');
  return {
    scale: p?.scale ?? 1,
    mirror: p?.mirror ?? false,
    cropSize: p?.crop_size ?? 0,
    meanFile,
    meanValues,
    forceColor: p?.force_color ?? false,
    forceGray: p?.force_gray ?? false,
  };
}

/** How encoded images are decoded (Caffe: force_color / force_gray, otherwise as stored). */
export function colorMode(settings: TransformSettings): ColorMode {
  return settings.forceColor ? 'color' : settings.forceGray ? 'gray' : 'native';
}

export interface SampleShape {
  channels: number;
  height: number;
  width: number;
}

export class DataTransformer {
  private mean: MeanImage | undefined;

  constructor(
    readonly settings: TransformSettings,
    private readonly train: boolean,
    private readonly rng: Rng,
  ) {
    if (settings.meanFile) this.mean = readMeanFile(settings.meanFile);
  }


  /** Shape of a transformed sample from an input of shape `s` (the crop, if any). */
  outputShape(s: SampleShape, where: string): SampleShape {
    const { cropSize } = this.settings;
    if (cropSize && (s.height < cropSize || s.width < cropSize)) {
      throw new KdnetError(`${where}: the ${s.height}×${s.width} image is smaller than crop_size ${cropSize}`);
    }
    return cropSize ? { channels: s.channels, height: cropSize, width: cropSize } : { ...s };
  }

  /** Transforms one C×H×W sample into `out` at `offset` (the output shape's size). */
  transform(src: ArrayLike<number>, s: SampleShape, out: Float32Array, offset: number, where: string): void {
    const { mirror, cropSize } = this.settings;
    const scale = Math.fround(this.settings.scale);
    const { channels, height, width } = s;
    const mean = this.mean;
    if (mean && (mean.channels !== channels || mean.height !== height || mean.width !== width)) {
      throw new KdnetError(`${where}: the mean file is ${mean.channels}×${mean.height}×${mean.width} but the data is ${channels}×${height}×${width}`);
    }
    const meanValues = this.settings.meanValues;
    if (meanValues.length > 1 && meanValues.length !== channels) {
      throw new KdnetError(`${where}: ${meanValues.length} mean_value entries for ${channels} channels (give 1 or ${channels})`);
    }
    const doMirror = mirror && this.rand(2) === 1;
    let hOff = 0;
    let wOff = 0;
    let oh = height;
    let ow = width;
    if (cropSize) {
      oh = ow = cropSize;
      if (this.train) {
        hOff = this.rand(height - cropSize + 1);
        wOff = this.rand(width - cropSize + 1);
      } else {
        hOff = (height - cropSize) >> 1;
        wOff = (width - cropSize) >> 1;
      }
    }
    for (let c = 0; c < channels; c++) {
      // One mean value serves every channel.
      const mv = meanValues.length ? meanValues[meanValues.length === 1 ? 0 : c]! : 0;
      for (let h = 0; h < oh; h++) {
        const srcRow = (c * height + hOff + h) * width + wOff;
        const dstRow = offset + (c * oh + h) * ow;
        for (let w = 0; w < ow; w++) {
          const di = srcRow + w;
          // Single-precision steps, as Caffe computes (value - mean) * scale in float.
          const v = Math.fround(mean ? src[di]! - mean.data[di]! : src[di]! - mv);
          out[dstRow + (doMirror ? ow - 1 - w : w)] = v * scale;
        }
      }
    }
  }

  private rand(n: number): number {
    return Math.floor(this.rng.uniform() * n);
  }
}
