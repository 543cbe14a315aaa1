import os from 'node:os';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { testNet, timeNet } from '../net/test-time.js';
import { initBackend } from '../backend/select.js';
import { kernelSet } from '../backend/native/kernel-set.js';
import type { CliIO } from './io.js';
import { addLayersPathOption } from './layers-path.js';
import { loadJsLayersOfNetFile } from '../layers/python/preload.js';
import { log } from '../log.js';
import { applyThreadsFlag, parseInputShapes, THREADS_HELP, withSizeLimitOptions } from './args.js';
import { parsePhase } from '../net/net-state.js';
import { sizeLimitsFromFlags, type SizeLimitFlags } from '../net/size-limits.js';

function common(cmd: Command, iterationsDefault: string): Command {
  return addLayersPathOption(withSizeLimitOptions(cmd))
    .requiredOption('--model <net>', 'net .prototxt')
    .option('--weights <files>', 'comma-separated .caffemodel files')
    .option('--iterations <n>', 'number of iterations', iterationsDefault)
    .option('--stage <stages>', 'comma-separated NetState stages')
    .option('--level <n>', 'NetState level', '0')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .option('--threads <n>', THREADS_HELP)
    .option('--gpu <ids>', 'accepted for Caffe compatibility')
    .option('--input-shape <blob=dims...>', 'run with this shape for an Input blob instead of the declared one, e.g. data=1,3,24,24 (repeatable)');
}

type Opts = { model: string; weights?: string; iterations: string; stage?: string; level: string; backend?: string; threads?: string; gpu?: string; inputShape?: string[]; phase?: string; layersPath?: string[] } & SizeLimitFlags;

function warnGpu(o: Opts): void {
  if (o.gpu !== undefined) log.warn(`-gpu ${o.gpu} ignored: no GPU backend is present (running on the CPU)`);
}
const runOptions = (o: Opts) => ({
  model: o.model,
  weights: o.weights ? o.weights.split(',') : undefined,
  iterations: Number(o.iterations),
  stage: o.stage ? o.stage.split(',') : undefined,
  level: Number(o.level),
  inputShapes: parseInputShapes(o.inputShape ?? []),
  sizeLimits: sizeLimitsFromFlags(o),
  layersPath: o.layersPath,
});

export function registerTestTime(program: Command, io: CliIO): void {
  common(program.command('test').description('score a trained net: mean of every output over N batches (as `caffe test`)'), '50').action(
    async (o: Opts) => {
      applyThreadsFlag(o.threads);
      await initBackend(o.backend);
      warnGpu(o);
      await loadJsLayersOfNetFile(o.model, o.layersPath);
      testNet(runOptions(o));
    },
  );
  common(program.command('time').description('per-layer forward/backward time in ms (as `caffe time`)'), '50')
    .option('--phase <phase>', 'TRAIN or TEST: the net to time', 'TRAIN')
    .action(async (o: Opts) => {
      applyThreadsFlag(o.threads);
      await initBackend(o.backend);
      warnGpu(o);
      await loadJsLayersOfNetFile(o.model, o.layersPath);
      timeNet({ ...runOptions(o), phase: parsePhase(o.phase!) });
    });
  program
    .command('device_query')
    .description('show the compute backend, kernel set, threads, SIMD and memory')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .option('--threads <n>', THREADS_HELP)
    .action(async (o: { backend?: string; threads?: string }) => {
      applyThreadsFlag(o.threads);
      const choice = await initBackend(o.backend, true);
      const kernels = choice.name === 'wasm' ? kernelSet() : undefined;
      const wasmThreads = kernels?.native
        ? `1 for wasm kernels, ${kernels.threads} for native kernels`
        : kernels && kernels.threads > 1
          ? `${kernels.threads} for XNNPACK's convolutions and matmuls (tfjs' threaded wasm build), 1 for the other wasm kernels`
          : '1 (wasm kernels on one thread)';
      const env = tf.env();
      const lines = [
        ['backend', `${choice.name} (${choice.reason})`],
        ['tfjs-core', tf.version_core],
        ['cpu', `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`],
        ['kernels', kernels ? kernels.description : 'tfjs kernels of the backend'],
        ['threads', choice.name === 'wasm' ? wasmThreads : String(os.cpus().length)],
        ['simd', choice.name === 'wasm' ? String(env.getBool('WASM_HAS_SIMD_SUPPORT')) : 'n/a'],
        ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free`],
        ['node', process.version],
      ];
      for (const [k, v] of lines) io.out(`${k.padEnd(10)} ${v}\n`);
    });
}
