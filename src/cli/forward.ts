import type { Command } from 'commander';
import { runForward } from '../net/forward-dump.js';
import { parsePhase } from '../net/net-state.js';
import { initBackend } from '../backend/select.js';
import { KdnetError } from '../errors.js';
import type { CliIO } from './io.js';
import { applyThreadsFlag, THREADS_HELP, withSizeLimitOptions } from './args.js';
import { sizeLimitsFromFlags, type SizeLimitFlags } from '../net/size-limits.js';
import { addLayersPathOption } from './layers-path.js';
import { loadJsLayersOfNetFile } from '../layers/python/preload.js';

function collectInput(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new KdnetError(`expected BLOB=FILE.npy, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function registerForward(program: Command, io: CliIO): void {
  addLayersPathOption(withSizeLimitOptions(program.command('forward')))
    .description('run a net once on .npy inputs (of any size the net can take: it is reshaped); print the loss and optionally dump every blob (and diff) as NCHW .npy')
    .requiredOption('--model <net>', 'net .prototxt')
    .option('--weights <files>', 'comma-separated .caffemodel files, copied by layer name')
    .option('--input <blob=file>', 'input blob data from a .npy file (repeatable)', collectInput, {})
    .option('--backward', 'also run backward (from the loss tops and any --top-diff) and dump diffs')
    .option('--top-diff <blob=file>', 'diff seeded into an output blob before backward, from a .npy file (repeatable)', collectInput, {})
    .option('--dump <dir>', 'write every blob as <blob>.npy (diffs as <blob>.diff.npy, <layer>.param<i>.diff.npy)')
    .option('--phase <phase>', 'TRAIN or TEST', 'TEST')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .option('--threads <n>', THREADS_HELP)
    .action(async (o: { model: string; weights?: string; input: Record<string, string>; topDiff: Record<string, string>; backward?: boolean; dump?: string; phase: string; backend?: string; threads?: string; layersPath?: string[] } & SizeLimitFlags) => {
      applyThreadsFlag(o.threads);
      await initBackend(o.backend);
      await loadJsLayersOfNetFile(o.model, o.layersPath);
      const r = runForward({
        model: o.model,
        weights: o.weights ? o.weights.split(',') : undefined,
        inputs: o.input,
        topDiffs: o.topDiff,
        backward: o.backward,
        dump: o.dump,
        phase: parsePhase(o.phase),
        sizeLimits: sizeLimitsFromFlags(o),
        layersPath: o.layersPath,
      });
      for (const t of r.lossTops) io.out(`${t.blob} = ${t.value} (* ${t.weight} = ${t.value * t.weight} loss)\n`);
      io.out(`loss = ${r.loss}\n`);
      if (o.dump) io.out(`wrote ${r.dumped.length} files to ${o.dump}\n`);
    });
}
