import type { Command } from 'commander';
import { buildFashionMnist } from '../data/fashion-mnist.js';
import type { CliIO } from './io.js';

export function registerData(program: Command, io: CliIO): void {
  const data = program.command('data').description('build the bundled example data sets');
  data
    .command('fashion-mnist')
    .description('Fashion-MNIST as HDF5 for the bundled models (the shipped subset, or the full set with --full)')
    .option('--full', 'use the full 60,000/10,000 images from /usr/share/datasets/fashion-mnist (or FASHION_MNIST_DIR)')
    .option('--out <dir>', 'output folder', 'data/fashion-mnist')
    .action(async (o: { full?: boolean; out: string }) => {
      const r = await buildFashionMnist(o.out, o.full === true);
      io.out(`${r.counts.train} training and ${r.counts.test} test images from ${r.source} in ${r.outDir}\n`);
    });
}
