import type { Command } from 'commander';
import { loadCaffeFile } from '../proto/load.js';
import { printCaffeText } from '../proto/text.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CliIO } from './io.js';

export function registerUpgrade(program: Command, io: CliIO): void {
  program
    .command('upgrade')
    .description('upgrade a V0/V1 net or legacy solver to the current format and print it canonically')
    .argument('<in>', 'net or solver .prototxt')
    .argument('[out]', 'output file (default: standard output)')
    .action((input: string, output: string | undefined) => {
      const loaded = loadCaffeFile(input);
      const text = printCaffeText(loaded.message, loaded.kind);
      if (output) writeFileAtomic(output, text);
      else io.out(text);
    });
}
