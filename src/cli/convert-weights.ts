import type { Command } from 'commander';
import { readCaffemodel, writeWeightsMessage } from '../proto/weights.js';
import type { CliIO } from './io.js';

export function registerConvertWeights(program: Command, io: CliIO): void {
  program
    .command('convert-weights')
    .description('convert weights between binary .caffemodel and the text form (.prototxt / .pbtxt), by file name')
    .argument('<in>', 'weights file')
    .argument('<out>', 'output file')
    .action((input: string, output: string) => {
      const msg = readCaffemodel(input);
      writeWeightsMessage(output, msg);
      io.out(`wrote ${output} (${msg.layer.length + msg.layers.length} layers)\n`);
    });
}
