import type { Command } from 'commander';
import { readTrainingCurves } from '../solvers/training-log.js';
import { curvesSvg } from '../solvers/plot.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CliIO } from './io.js';

export function registerPlot(program: Command, io: CliIO): void {
  program
    .command('plot')
    .description('draw train loss, test outputs and learning rate against iteration from a training log or --log-json file')
    .argument('<log>', 'a Caffe/kdnet training log, or the JSON-lines file of --log-json')
    .requiredOption('--out <file.svg>', 'SVG file to write')
    .action(async (file: string, o: { out: string }) => {
      const points = readTrainingCurves(file);
      writeFileAtomic(o.out, await curvesSvg(points));
      io.out(`wrote ${o.out} (${points.length} points)\n`);
    });
}
