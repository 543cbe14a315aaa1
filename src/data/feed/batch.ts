// One batch: the next batch_size samples of a source, decoded concurrently, transformed in order.
import { KdnetError } from '../../errors.js';
import { sameShape, shapeText } from '../datum.js';
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
  const first = pixels[0]!;
  const out = transformer.outputShape(first, pending[0]!.where);
  const size = out.channels * out.height * out.width;
  const data = new Float32Array(batchSize * size);
  const labels = new Float32Array(batchSize);
  pixels.forEach((px, i) => {
    const where = pending[i]!.where;
    if (!sameShape(px, first)) {
      throw new KdnetError(`${where}: shape ${shapeText(px)} differs from ${shapeText(first)} of the batch's first sample (${pending[0]!.where})`);
    }
    transformer.transform(px.data, px, data, i * size, where);
    labels[i] = pending[i]!.label;
  });
  return { shape: [batchSize, out.channels, out.height, out.width], data, labels };
}
