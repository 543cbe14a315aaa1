// Caffe's data tools: convert-imageset, convert-mnist, convert-cifar, convert-vectors, compute-image-mean, db-info.
import type { Command } from 'commander';
import { convertCifar, convertImageset, convertMnist, convertVectors, computeImageMean, dbInfo } from '../data/tools/index.js';
import { writeMeanFile } from '../data/mean.js';
import { parseBackend, type Backend } from '../data/db/index.js';
import { progressReporter } from './progress.js';
import type { CliIO } from './io.js';
import { formatTable } from '../util/text-table.js';

/** Runs `job` with a progress bar on a terminal (records converted out of the total). */
async function withProgress<T>(task: string, job: (progress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const bar = progressReporter(process.stderr, task, 'records');
  try {
    return await job((done, total) => bar.update(done, total));
  } finally {
    bar.stop();
  }
}

function backendOption(o: { backend?: string }): Backend | undefined {
  return o.backend ? parseBackend(o.backend) : undefined;
}

function int(v: string): number {
  return Number.parseInt(v, 10);
}

export function registerDbTools(program: Command, io: CliIO): void {
  program
    .command('convert-imageset')
    .description('images listed as "path label" lines (paths relative to ROOT) into an LMDB/LevelDB of Datum records')
    .argument('<root>', 'folder prefixed to every path in the list (as Caffe concatenates it: end it with /)')
    .argument('<list>', 'list file of "path label" lines')
    .argument('<db>', 'database to create')
    .option('--gray', 'store images as 1-channel gray')
    .option('--shuffle', 'shuffle the list first')
    .option('--backend <name>', 'lmdb or leveldb', 'lmdb')
    .option('--resize_height <n>', 'resize to this height', int, 0)
    .option('--resize_width <n>', 'resize to this width', int, 0)
    .option('--check_size', 'require every image to have the same size')
    .option('--encoded', 'store the encoded image (JPEG/PNG) rather than raw pixels')
    .option('--encode_type <type>', 'encode as png or jpg (implies --encoded)', '')
    .action(async (root: string, list: string, db: string, o: Record<string, any>) => {
      const n = await withProgress('convert-imageset', (p) =>
        convertImageset(
          root,
          list,
          db,
          {
            gray: !!o.gray,
            shuffle: !!o.shuffle,
            backend: backendOption(o),
            resizeHeight: o.resize_height,
            resizeWidth: o.resize_width,
            checkSize: !!o.check_size,
            encoded: !!o.encoded,
            encodeType: o.encode_type,
          },
          p,
        ),
      );
      io.out(`wrote ${n} records to ${db}\n`);
    });

  program
    .command('convert-mnist')
    .description('MNIST-format IDX images and labels (gzipped or not) into an LMDB/LevelDB of Datum records')
    .argument('<images>', 'IDX image file')
    .argument('<labels>', 'IDX label file')
    .argument('<db>', 'database to create')
    .option('--backend <name>', 'lmdb or leveldb', 'lmdb')
    .action(async (images: string, labels: string, db: string, o: { backend?: string }) => {
      const n = await withProgress('convert-mnist', (p) => convertMnist(images, labels, db, backendOption(o), p));
      io.out(`wrote ${n} records to ${db}\n`);
    });

  program
    .command('convert-cifar')
    .description("CIFAR-10's binary batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin) into OUT_DIR/cifar10_train_<backend> and cifar10_test_<backend>, as Caffe's convert_cifar_data")
    .argument('<in_dir>', 'folder of the binary batches (cifar-10-batches-bin from cifar-10-binary.tar.gz)')
    .argument('<out_dir>', 'folder for the two databases (created if missing)')
    .option('--backend <name>', 'lmdb or leveldb', 'lmdb')
    .action(async (inDir: string, outDir: string, o: { backend?: string }) => {
      const r = await withProgress('convert-cifar', (p) => convertCifar(inDir, outDir, backendOption(o), p));
      io.out(`wrote ${r.train.records} records to ${r.train.db} and ${r.test.records} records to ${r.test.db}\n`);
    });

  program
    .command('convert-vectors')
    .description('float vectors (.npy N×D, .h5, .csv, or "name v1 v2 ..." lines) into an LMDB/LevelDB of float_data Datum records')
    .argument('<input>', 'vectors file')
    .argument('<db>', 'database to create')
    .option('--backend <name>', 'lmdb or leveldb', 'lmdb')
    .option('--dataset <name>', 'dataset to read from an HDF5 file', 'data')
    .option('--key_width <n>', 'digits of the record number in keys', int, 8)
    .action(async (input: string, db: string, o: { backend?: string; dataset: string; key_width: number }) => {
      const v = await withProgress('convert-vectors', (p) => convertVectors(input, db, { backend: backendOption(o), dataset: o.dataset, keyWidth: o.key_width }, p));
      io.out(`wrote ${v.rows} vectors of ${v.dim} values to ${db}\n`);
    });

  program
    .command('compute-image-mean')
    .description('the mean image of a database, as a binaryproto mean file')
    .argument('<db>', 'database to read')
    .argument('[mean]', 'binaryproto file to write')
    .option('--backend <name>', 'lmdb or leveldb (default: detected)')
    .action(async (db: string, mean: string | undefined, o: { backend?: string }) => {
      const m = await withProgress('compute-image-mean', (p) => computeImageMean(db, backendOption(o), p));
      if (mean) {
        writeMeanFile(mean, m);
        io.out(`wrote the ${m.channels}×${m.height}×${m.width} mean to ${mean}\n`);
      }
    });

  program
    .command('db-info')
    .description('what an LMDB/LevelDB holds: record count, first keys, Datum shape, label histogram')
    .argument('<db>', 'database to read')
    .option('--backend <name>', 'lmdb or leveldb (default: detected)')
    .action(async (db: string, o: { backend?: string }) => {
      const info = await withProgress('db-info', (p) => dbInfo(db, backendOption(o), p));
      const kind = info.encoded ? 'encoded images' : info.floatData ? 'float_data' : 'raw bytes';
      io.out(`${db}: ${info.backend}, ${info.count} records\n`);
      io.out(`first keys: ${info.firstKeys.join(', ')}\n`);
      if (info.shape) io.out(`datum shape: ${info.shape.join('×')} (${kind})\n`);
      const labels = [...info.labels.entries()].sort((a, b) => a[0] - b[0]);
      io.out(formatTable(['label', 'records'], labels.map(([l, n]) => [String(l), String(n)])));
    });
}
