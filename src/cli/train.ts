import type { Command } from 'commander';
import { train } from '../solvers/train.js';
import { parseSignalEffect } from '../solvers/signals.js';
import { initBackend } from '../backend/select.js';
import { log } from '../log.js';
import { progressReporter } from './progress.js';
import { applyThreadsFlag, fileArgumentOrFlag, THREADS_HELP, wholeNumberFlag } from './args.js';
import type { CliIO } from './io.js';
import { addLayersPathOption } from './layers-path.js';

export function registerTrain(program: Command, _io: CliIO): void {
  addLayersPathOption(program.command('train'))
    .description('train a net as `caffe train` does (same solver semantics, log lines and snapshot files)')
    .argument('[solver]', 'solver .prototxt (or --solver)')
    .option('--solver <file>', 'solver .prototxt (Caffe\'s -solver)')
    .option('--weights <files>', 'comma-separated .caffemodel files to finetune from (copied by layer name)')
    .option('--snapshot <file>', '.solverstate to resume from')
    .option('--stage <stages>', 'comma-separated NetState stages added to train_state and test_state')
    .option('--level <n>', 'NetState level for the nets')
    .option('--iterations <n>', 'override max_iter')
    .option('--sigint_effect <effect>', 'on Ctrl-C: stop, snapshot or none', 'stop')
    .option('--sighup_effect <effect>', 'on SIGHUP: stop, snapshot or none', 'snapshot')
    .option('--log-json <file>', 'append one JSON object per display and test event')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .option('--threads <n>', THREADS_HELP)
    .option('--gpu <ids>', 'accepted for Caffe compatibility')
    .action(async (positional: string | undefined, o: Record<string, string | undefined> & { layersPath?: string[] }) => {
      const solver = fileArgumentOrFlag('solver', positional, o.solver, 'kdnet train SOLVER or kdnet train --solver SOLVER');
      const level = wholeNumberFlag('level', o.level);
      const iterations = wholeNumberFlag('iterations', o.iterations);
      const sigintEffect = parseSignalEffect('sigint_effect', o.sigint_effect!);
      const sighupEffect = parseSignalEffect('sighup_effect', o.sighup_effect!);
      applyThreadsFlag(o.threads);
      await initBackend(o.backend);
      if (o.gpu !== undefined) log.warn(`-gpu ${o.gpu} ignored: no GPU backend is present (running on the CPU)`);
      const progress = progressReporter();
      try {
        const trained = await train({
          solver,
          weights: o.weights ? o.weights.split(',') : undefined,
          snapshot: o.snapshot,
          stage: o.stage ? o.stage.split(',') : undefined,
          level,
          iterations,
          sigintEffect,
          sighupEffect,
          logJson: o.logJson,
          onProgress: progress.update,
          layersPath: o.layersPath,
        });
        trained.dispose();
      } finally {
        progress.stop();
      }
    });
}
