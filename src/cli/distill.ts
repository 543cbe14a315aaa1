// `kdnet distill`: the distillation workflows. `convert` rewrites an old recipe onto kdnet's native layers.
import type { Command } from 'commander';
import { conversionText, convertDistillFile, formatConversion, writeConversion } from '../distill/convert/index.js';
import { KdnetError } from '../errors.js';
import { exportStudent, formatExport } from '../distill/export.js';
import { initBackend } from '../backend/select.js';
import { applyThreadsFlag, THREADS_HELP, wholeNumberFlag } from './args.js';
import { formatInit, initDistillation } from '../distill/init.js';
import type { SoftLossLayer } from '../distill/soft-loss.js';
import { parseHint } from '../distill/hints.js';
import { formatSweep, parseTemperatures, runSweep } from '../distill/sweep.js';
import { progressReporter } from './progress.js';
import type { CliIO } from './io.js';
import { drawNetFile } from '../net/draw-file.js';
import { Phase } from '../net/net-state.js';

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

function parseShape(text: string): number[] {
  const dims = text.split(',').map((d) => Number(d.trim()));
  if (!dims.length || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new KdnetError(`--input-shape wants positive integers C,H,W, got '${text}'`);
  return dims;
}

function registerExport(distill: Command, io: CliIO): void {
  distill
    .command('export')
    .description(
      'write the trained student alone, as shipped: DIR/deploy.prototxt (an Input of the data shape, the student layers, a Softmax "prob"; ' +
        'no data, loss, Accuracy, teacher or hint-adapter layers) and DIR/deploy.caffemodel with only the student weights',
    )
    .argument('<net>', 'the teacher+student training net .prototxt (its TRAIN phase is split)')
    .requiredOption('--weights <file>', 'the trained snapshot .caffemodel')
    .requiredOption('--out <dir>', 'output folder (refused when it exists and is not empty, unless --force)')
    .option('--batch <n>', 'batch size of the Input layer', '1')
    .option('--input-shape <C,H,W>', 'per-sample input shape (default: read from the data layer)')
    .option('--no-softmax', 'do not add the Softmax "prob" on the student logits')
    .option('--force', 'write into a non-empty output folder')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .option('--threads <n>', THREADS_HELP)
    .action(async (net: string, o: { weights: string; out: string; batch: string; inputShape?: string; softmax: boolean; force?: boolean; backend?: string; threads?: string }) => {
      applyThreadsFlag(o.threads);
      await initBackend(o.backend);
      const r = exportStudent({ model: net, weights: o.weights, out: o.out, batch: Number(o.batch), inputShape: o.inputShape ? parseShape(o.inputShape) : undefined, softmax: o.softmax, force: o.force });
      io.out(formatExport(r));
    });
}

function registerInit(distill: Command, io: CliIO): void {
  distill
    .command('init')
    .description(
      'compose a frozen teacher and a student into one training net (DIR/train_val.prototxt, DIR/solver.prototxt; NAME_ before both with --name) for online distillation: ' +
        "the student's data feeds both, the teacher keeps its layer names (student names that collide get an s_ prefix), hard loss weight alpha, soft loss weight (1-alpha) (T²(1-alpha) for TempSoftmaxCrossEntropyLoss)",
    )
    .requiredOption('--teacher <prototxt>', 'the teacher net')
    .requiredOption('--teacher-weights <caffemodel>', "the teacher's trained weights (copied by layer name when training)")
    .requiredOption('--student <prototxt>', 'the student net, with its data layers and a SoftmaxWithLoss')
    .requiredOption('--out <dir>', 'output folder (refused when it exists and is not empty, unless --force)')
    .option('--temperature <T>', 'softmax temperature', '4')
    .option('--alpha <a>', 'hard-loss weight in [0, 1]; the soft loss gets 1 - alpha', '0.1')
    .option('--soft-weight <w>', 'soft-loss weight instead of 1 - alpha (before the T² factor of TempSoftmaxCrossEntropyLoss), e.g. 0.6 with --alpha 0.05 and hints summing to 0.35')
    .option('--layer <type>', 'KnowledgeDistillation or TempSoftmaxCrossEntropyLoss', 'KnowledgeDistillation')
    .option('--hint <t_blob:s_blob[:weight]>', 'a FitNets hint: adapter from the student blob to the teacher blob, EuclideanLoss (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--name <name>', 'write DIR/NAME_train_val.prototxt and DIR/NAME_solver.prototxt (then only those two files must not exist yet)')
    .option('--solver <prototxt>', "take the solver's settings (schedule, test passes, random_seed) from this solver instead of generic ones")
    .option('--snapshot-prefix <prefix>', 'snapshot_prefix of the written solver (default DIR/student, or DIR/NAME_student)')
    .option('--force', 'write into a non-empty output folder (with --name: overwrite its two files)')
    .action(async (o: { teacher: string; teacherWeights: string; student: string; out: string; temperature: string; alpha: string; softWeight?: string; layer: string; hint: string[]; name?: string; solver?: string; snapshotPrefix?: string; force?: boolean }) => {
      const r = initDistillation({
        teacher: o.teacher,
        teacherWeights: o.teacherWeights,
        student: o.student,
        out: o.out,
        temperature: Number(o.temperature),
        alpha: Number(o.alpha),
        softWeight: o.softWeight === undefined ? undefined : Number(o.softWeight),
        layer: o.layer as SoftLossLayer,
        hints: o.hint.map(parseHint),
        name: o.name,
        solver: o.solver,
        snapshotPrefix: o.snapshotPrefix,
        force: o.force,
      });
      io.out(formatInit(r));
      // A picture of what was composed: teacher, student, losses and hint adapters in their own colours.
      const drawing = r.trainVal.replace(/\.prototxt$/, '.svg');
      await drawNetFile(r.trainVal, drawing, { phase: Phase.TRAIN });
      io.out(`drew the TRAIN net in ${drawing}\n`);
    });
}

function registerSweep(distill: Command, io: CliIO): void {
  distill
    .command('sweep')
    .description(
      'train a distillation solver once per temperature (and seed) and report the final test accuracy per T: every KnowledgeDistillation / ' +
        "TempSoftmaxCrossEntropyLoss layer gets the T (TempSoftmax's loss_weight follows the T² convention of distill init); writes " +
        'DIR/sweep.md (table), DIR/sweep.json and DIR/sweep.svg (test error against T), and each run under DIR/T<T>-seed<S>/',
    )
    .requiredOption('--solver <file>', 'the distillation solver (e.g. the solver.prototxt written by kdnet distill init)')
    .option('--temperatures <list>', 'comma-separated temperatures', '1,2,4,8,20')
    .requiredOption('--out <dir>', 'output folder (refused when it exists and is not empty, unless --force)')
    .option('--weights <files>', 'comma-separated .caffemodel files copied by layer name before each run (the teacher)')
    .option('--seeds <n>', 'runs per temperature, with random_seed, random_seed + 1, ... (1701 when unset)', '1')
    .option('--iterations <n>', 'override max_iter')
    .option('--metric <name>', "test output compared (default: test net #0's Accuracy top)")
    .option('--force', 'write into a non-empty output folder')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .action(async (o: { solver: string; temperatures: string; out: string; weights?: string; seeds: string; iterations?: string; metric?: string; force?: boolean; backend?: string }) => {
      const temperatures = parseTemperatures(o.temperatures);
      const seeds = wholeNumberFlag('seeds', o.seeds);
      const iterations = wholeNumberFlag('iterations', o.iterations);
      await initBackend(o.backend);
      const r = await runSweep({
        solver: o.solver,
        temperatures,
        out: o.out,
        weights: o.weights ? o.weights.split(',') : undefined,
        seeds,
        iterations,
        metric: o.metric,
        force: o.force,
        onRun: (label) => progressReporter(process.stderr, `sweep ${label}`),
      });
      io.out(formatSweep(r));
    });
}

export function registerDistill(program: Command, io: CliIO): void {
  const distill = program.command('distill').description('knowledge distillation workflows (convert old recipes, compose teacher and student, sweep the temperature, export the student)');
  registerConvert(distill, io);
  registerExport(distill, io);
  registerInit(distill, io);
  registerSweep(distill, io);
}
