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

/**
 * Reads and transforms the next batch. `maxElements` bounds the batch (the net's run-time size limits): it is
 * checked on the first sample's shape, before the other batch_size − 1 are read or anything is allocated.
 */
export async function loadBatch(source: SampleSource, transformer: DataTransformer, batchSize: number, maxElements = Infinity): Promise<Batch> {
  const first = await source.next();
  const firstPixels = first.pixels();
  if (Number.isFinite(maxElements)) {
    const out = transformer.outputShape(await firstPixels, first.where);
    const shape = [batchSize, out.channels, out.height, out.width];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count > maxElements) {
      throw new KdnetError(
        `a batch of shape [${shape.join(', ')}] (batch_size ${batchSize}, samples like ${first.where}) holds ${count} elements, more than the ` +
          `run-time limit of ${maxElements} (--max-blob-elements / --memory-limit, or KDNET_MAX_BLOB_ELEMENTS / KDNET_MEMORY_LIMIT)`,
      );
    }
  }
  const pending: PendingSample[] = [first];
  for (let i = 1; i < batchSize; i++) pending.push(await source.next());
  const pixels = await Promise.all([firstPixels, ...pending.slice(1).map((p) => p.pixels())]);
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
