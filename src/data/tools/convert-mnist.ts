// Caffe's convert_mnist_data: IDX image and label files (gzipped or not) into a database of uint8 Datum
// records (1×rows×cols), keys %08d. `shape` may turn each grey image into another layout (e.g. CIFAR-10's
// 3×32×32, see ../cifar-shape.ts) before it is stored.
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { readIdx } from '../idx.js';
import { encodeDatum } from '../datum.js';
import { recordKey, type Backend } from '../db/index.js';
import { writeDatabase, type Progress } from './write-records.js';
import type { ShapedImage } from '../cifar-shape.js';

export type ImageShaper = (grey: Uint8Array, rows: number, cols: number) => ShapedImage;

export async function convertMnist(imagesFile: string, labelsFile: string, dbPath: string, backend: Backend = 'lmdb', progress?: Progress, shape?: ImageShaper): Promise<number> {
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  if (images.dims.length !== 3) throw new KdnetError(`${imagesFile}: expected an IDX image file (3 dimensions), got ${images.dims.length}`);
  if (labels.dims.length !== 1) throw new KdnetError(`${labelsFile}: expected an IDX label file (1 dimension), got ${labels.dims.length}`);
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) throw new KdnetError(`${labelsFile}: ${labels.dims[0]} labels for ${n} images in ${imagesFile}`);
  log.info(`A total of ${n} items.`);
  log.info(`Rows: ${rows} Cols: ${cols}`);
  const size = rows * cols;
  await writeDatabase(dbPath, backend, async (db) => {
    for (let i = 0; i < n; i++) {
      const data = images.data.subarray(i * size, (i + 1) * size);
      const image = shape ? shape(data, rows, cols) : { channels: 1, height: rows, width: cols, data };
      await db.put(recordKey(i), encodeDatum({ ...image, label: labels.data[i]! }));
      progress?.(i + 1, n);
    }
  });
  log.info(`Processed ${n} files.`);
  return n;
}
