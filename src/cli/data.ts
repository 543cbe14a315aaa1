import type { Command } from 'commander';
import { buildFashionMnist } from '../data/fashion-mnist.js';
import { progressReporter } from './progress.js';
import type { CliIO } from './io.js';

export function registerData(program: Command, io: CliIO): void {
  const data = program.command('data').description('build the bundled example data sets');
  data
    .command('fashion-mnist')
    .description('Fashion-MNIST as LMDBs for the bundled models (the shipped subset, or the full set with --full)')
    .option('--full', 'the full 60,000/10,000 images: from /usr/share/datasets/fashion-mnist, FASHION_MNIST_DIR, or downloaded')
    .option('--cifar-shape', "store the images in CIFAR-10's shape, 3×32×32 (centred on black, grey copied into 3 channels), as fashion_cifar_shape_{train,test}_lmdb")
    .option('--out <dir>', 'output folder', 'data/fashion-mnist')
    .action(async (o: { full?: boolean; cifarShape?: boolean; out: string }) => {
      const bar = progressReporter(process.stderr, 'fashion-mnist', 'records');
      try {
        const r = await buildFashionMnist({ outDir: o.out, full: o.full === true, cifarShape: o.cifarShape === true, progress: (done, total) => bar.update(done, total) });
        io.out(`${r.counts.train} training and ${r.counts.test} test images from ${r.source} in ${r.databases.train} and ${r.databases.test}\n`);
      } finally {
        bar.stop();
      }
    });
}
