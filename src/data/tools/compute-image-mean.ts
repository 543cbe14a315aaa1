// Caffe's compute_image_mean: the per-pixel arithmetic mean of every Datum in a database (encoded images
// decoded), written as a binaryproto BlobProto 1×C×H×W.
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { openDbReader, type Backend } from '../db/index.js';
import { datumPixels, decodeDatum, sameShape, shapeText } from '../datum.js';
import type { MeanImage } from '../mean.js';
import type { Progress } from './write-records.js';

export async function computeImageMean(dbPath: string, backend?: Backend, progress?: Progress): Promise<MeanImage> {
  const db = await openDbReader(dbPath, backend);
  try {
    const total = await db.count();
    let sum: Float64Array | undefined;
    let shape: { channels: number; height: number; width: number; key: string } | undefined;
    let count = 0;
    for await (const { key, value } of db.records()) {
      const where = `${dbPath}: record '${key.toString('latin1')}'`;
      const px = await datumPixels(decodeDatum(value, where), where);
      if (!shape) {
        shape = { channels: px.channels, height: px.height, width: px.width, key: key.toString('latin1') };
        sum = new Float64Array(px.data.length);
      } else if (!sameShape(px, shape)) {
        throw new KdnetError(`${where}: shape ${shapeText(px)} differs from ${shapeText(shape)} of the first record '${shape.key}'`);
      }
      const s = sum!;
      for (let i = 0; i < s.length; i++) s[i]! += px.data[i]!;
      count++;
      progress?.(count, total);
      if (count % 10000 === 0) log.info(`Processed ${count} files.`);
    }
    if (!shape || !sum) throw new KdnetError(`${dbPath}: the database is empty`);
    log.info(`Processed ${count} files.`);
    const data = Float32Array.from(sum, (v) => v / count);
    const plane = shape.height * shape.width;
    log.info(`Number of channels: ${shape.channels}`);
    for (let c = 0; c < shape.channels; c++) {
      let m = 0;
      for (let i = 0; i < plane; i++) m += data[c * plane + i]!;
      log.info(`mean_value channel [${c}]: ${m / plane}`);
    }
    return { channels: shape.channels, height: shape.height, width: shape.width, data };
  } finally {
    await db.close();
  }
}
