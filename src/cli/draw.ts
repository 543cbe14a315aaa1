import type { Command } from 'commander';
import { parsePhase } from '../net/net-state.js';
import { parseRankdir } from '../net/draw.js';
import { drawNetFile } from '../net/draw-file.js';
import { KdnetError } from '../errors.js';
import type { CliIO } from './io.js';

export function registerDraw(program: Command, io: CliIO): void {
  program
    .command('draw')
    .description("draw a net as Caffe's draw_net.py does (layers as boxes, blobs as octagons), teacher/student/losses/hint adapters coloured apart")
    .argument('<net>', 'net .prototxt')
    .requiredOption('--out <file>', 'SVG (or, with --format dot, DOT) file to write')
    .option('--rankdir <dir>', 'graph direction: LR, TB, BT or RL', 'LR')
    .option('--phase <phase>', 'draw only the layers of TRAIN or TEST (default: every layer)')
    .option('--format <format>', 'svg or dot', 'svg')
    .action(async (file: string, o: { out: string; rankdir: string; phase?: string; format: string }) => {
      const rankdir = parseRankdir(o.rankdir);
      const phase = o.phase === undefined ? undefined : parsePhase(o.phase);
      if (o.format !== 'svg' && o.format !== 'dot') throw new KdnetError(`unknown --format '${o.format}' (expected svg or dot)`);
      const graph = await drawNetFile(file, o.out, { rankdir, phase, format: o.format });
      io.out(`wrote ${o.out} (${graph.layers.length} layers, ${graph.blobs.length} blobs)\n`);
    });
}
