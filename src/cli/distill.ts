// `kdnet distill`: the distillation workflows. `convert` rewrites an old recipe onto kdnet's native layers.
import type { Command } from 'commander';
import { conversionText, convertDistillFile, formatConversion, writeConversion } from '../distill/convert/index.js';
import { KdnetError } from '../errors.js';
import type { CliIO } from './io.js';

function registerConvert(distill: Command, io: CliIO): void {
  distill
    .command('convert')
    .description(
      'rewrite an old distillation setup (Power/Softmax/CROSS_ENTROPY_LOSS or Power/SigmoidCrossEntropyLoss temperature hacks, ' +
        "kdistil's TempSoftmaxCrossEntropyLoss, a fork's KnowledgeDistillation .caffemodel) as a current net on kdnet's " +
        'distillation layers, printing each change and where the old numerics differ',
    )
    .argument('<old>', 'old net .prototxt (V1 or current syntax), or a fork .caffemodel')
    .option('--out <file>', 'write the converted net here (atomically) and the report to standard output; without it the net goes to standard output and the report to standard error')
    .option('--match-old-gradients', "rescale soft loss weights so the converted net's gradients equal the old recipe's where that is exact (default: keep them, with Hinton's T²)")
    .action((old: string, o: { out?: string; matchOldGradients?: boolean }) => {
      const c = convertDistillFile(old, { matchOldGradients: o.matchOldGradients });
      if (o.out) {
        writeConversion(c, o.out);
        io.out(formatConversion(c) + `wrote ${o.out}\n`);
        return;
      }
      if (c.binary) throw new KdnetError(`${old} is a binary .caffemodel: give --out FILE (.caffemodel keeps its blobs, .prototxt writes text)`);
      io.out(conversionText(c));
      io.err(formatConversion(c));
    });
}

export function registerDistill(program: Command, io: CliIO): void {
  const distill = program.command('distill').description('knowledge distillation workflows (convert old recipes)');
  registerConvert(distill, io);
}
