// Caffe's examples/cifar10/convert_cifar_data: CIFAR-10's binary batches (data_batch_1.bin … data_batch_5.bin,
// test_batch.bin; each record 1 label byte + 3072 pixel bytes, the R, G and B planes of a 32×32 image) into
// OUT/cifar10_train_<backend> and OUT/cifar10_test_<backend> of 3×32×32 uint8 Datums, keys %05d of
// batch × 10000 + index as Caffe numbers them. The bytes are stored as they are, planes in R,G,B order (Caffe
// does not reorder them to BGR). Caffe reads 10,000 records per batch without checking; kdnet reads the
// records a file holds (at most 10,000, so keys stay Caffe's) and refuses a file that is not whole records.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';
import { encodeDatum } from '../datum.js';
import { recordKey, type Backend } from '../db/index.js';
import { writeDatabase, type Progress } from './write-records.js';

export const CIFAR_IMAGE_BYTES = 3 * 32 * 32;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
export const CIFAR_BATCH_SIZE = 10000;
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR_TEST_FILE = 'test_batch.bin';

export interface ConvertCifarResult {
  train: { db: string; records: number };
  test: { db: string; records: number };
}

/** Checks one batch file whole (size, labels) before anything is written; returns its record count. */
function checkBatch(file: string): number {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a batch file' : `cannot read it (${code ?? (e as Error).message})`;
    throw new KdnetError(
      `${file}: ${why} (convert-cifar reads data_batch_1.bin … data_batch_5.bin and test_batch.bin from the folder of CIFAR-10's binary version, cifar-10-batches-bin)`,
    );
  }
  const records = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new KdnetError(
      `${file}: record ${records} is truncated (${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte records: 1 label byte + 3×32×32 pixels; is it CIFAR-100 or still gzipped?)`,
    );
  }
  if (records === 0) throw new KdnetError(`${file}: no records`);
  if (records > CIFAR_BATCH_SIZE) throw new KdnetError(`${file}: ${records} records; a CIFAR-10 batch holds at most ${CIFAR_BATCH_SIZE} (keys are batch × ${CIFAR_BATCH_SIZE} + index)`);
  for (let i = 0; i < records; i++) {
    const label = bytes[i * CIFAR_RECORD_BYTES]!;
    if (label > 9) throw new KdnetError(`${file}: record ${i} has label ${label}; CIFAR-10's labels are 0 to 9`);
  }
  return records;
}

async function writeBatches(files: string[], dbPath: string, backend: Backend, progress: (n: number) => void): Promise<number> {
  let written = 0;
  await writeDatabase(dbPath, backend, async (db) => {
    for (const [fileId, file] of files.entries()) {
      if (files.length > 1) log.info(`Training Batch ${fileId + 1}`);
      const bytes = fs.readFileSync(file);
      const records = bytes.length / CIFAR_RECORD_BYTES;
      for (let item = 0; item < records; item++) {
        const at = item * CIFAR_RECORD_BYTES;
        const data = bytes.subarray(at + 1, at + CIFAR_RECORD_BYTES);
        await db.put(recordKey(fileId * CIFAR_BATCH_SIZE + item, 5), encodeDatum({ channels: 3, height: 32, width: 32, data, label: bytes[at]! }));
        progress(++written);
      }
    }
  });
  return written;
}

export async function convertCifar(inDir: string, outDir: string, backend: Backend = 'lmdb', progress?: Progress): Promise<ConvertCifarResult> {
  const trainFiles = CIFAR_TRAIN_FILES.map((f) => path.join(inDir, f));
  const testFile = path.join(inDir, CIFAR_TEST_FILE);
  const counts = [...trainFiles, testFile].map(checkBatch);
  const total = counts.reduce((a, b) => a + b, 0);
  const train = path.join(outDir, `cifar10_train_${backend}`);
  const test = path.join(outDir, `cifar10_test_${backend}`);
  for (const db of [train, test]) if (fs.existsSync(db)) throw new KdnetError(`${db} already exists (remove it first; kdnet does not overwrite a database)`);
  fs.mkdirSync(outDir, { recursive: true });
  log.info('Writing Training data');
  const trainCount = await writeBatches(trainFiles, train, backend, (n) => progress?.(n, total));
  log.info('Writing Testing data');
  const testCount = await writeBatches([testFile], test, backend, (n) => progress?.(trainCount + n, total));
  log.info(`Wrote ${trainCount} training and ${testCount} test images.`);
  return { train: { db: train, records: trainCount }, test: { db: test, records: testCount } };
}
