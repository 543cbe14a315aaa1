// One batch: the next batch_size samples of a source, decoded concurrently, transformed in order.
import { KdnetError } from '../../errors.js';
import { sameShape, shapeText, type DatumPixels } from '../datum.js';
import type { DataTransformer } from '../transform.js';
import type { PendingSample, SampleSource } from './sources.js';

export interface Batch {
  /** [batch, C, H, W] of the transformed samples. */
  shape: number[];
  data: Float32Array;
  labels: Float32Array;
}

export async function loadBatch(source: SampleSource, transformer: DataTransformer, batchSize: number): Promise<Batch> {
  const pending: PendingSample[] = [];
  for (let i = 0; i < batchSize; i++) pending.push(await source.next());
  const pixels = await Promise.all(pending.map((p) => p.pixels()));
  return transformBatch(pending, pixels, transformer);
}

/** Decoded samples (all of one shape) transformed into one batch; `samples` name them in errors. */
export function transformBatch(samples: ReadonlyArray<{ where: string; label: number }>, pixels: DatumPixels[], transformer: DataTransformer): Batch {
  const first = pixels[0]!;
  const out = transformer.outputShape(first, samples[0]!.where);
  const size = out.channels * out.height * out.width;
  const data = new Float32Array(pixels.length * size);
  const labels = new Float32Array(pixels.length);
  pixels.forEach((px, i) => {
    const where = samples[i]!.where;
    if (!sameShape(px, first)) {
      throw new KdnetError(`${where}: shape ${shapeText(px)} differs from ${shapeText(first)} of the batch's first sample (${samples[0]!.where})`);
    }
    transformer.transform(px.data, px, data, i * size, where);
    labels[i] = samples[i]!.label;
  });
  return { shape: [pixels.length, out.channels, out.height, out.width], data, labels };
}
