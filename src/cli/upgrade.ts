import type { Command } from 'commander';
import { loadCaffeFile } from '../proto/load.js';
import { printCaffeText } from '../proto/text.js';
import { upgradeNetParameter } from '../proto/upgrade/index.js';
import { readCaffemodel } from '../proto/weights.js';
import { caffeType } from '../proto/schema.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { KdnetError } from '../errors.js';
import type { CliIO } from './io.js';

export function registerUpgrade(program: Command, io: CliIO): void {
  program
    .command('upgrade')
    .description('upgrade a V0/V1 net or legacy solver to the current format and print it canonically')
    .argument('<in>', 'net or solver .prototxt (with --binary: a .caffemodel)')
    .argument('[out]', 'output file (default: standard output; required with --binary)')
    .option('--binary', 'IN is a binary .caffemodel (V0/V1 `layers` with their blobs): write the upgraded binary to OUT')
    .action((input: string, output: string | undefined, o: { binary?: boolean }) => {
      if (o.binary) {
        if (!output) throw new KdnetError('upgrade --binary needs an OUT file');
        const { net } = upgradeNetParameter(readCaffemodel(input), input);
        writeFileAtomic(output, caffeType('NetParameter').encode(net).finish());
        return;
      }
      const loaded = loadCaffeFile(input);
      const text = printCaffeText(loaded.message, loaded.kind);
      if (output) writeFileAtomic(output, text);
      else io.out(text);
    });
}
