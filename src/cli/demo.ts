// `kdnet demo`: the distillation experiment on the shipped Fashion-MNIST subset (or the whole set with --full).
import type { Command } from 'commander';
import { initBackend } from '../backend/select.js';
import { KdnetError } from '../errors.js';
import { demo } from '../demo/demo.js';
import { REGIMES, type Regime } from '../demo/run.js';
import { progressReporter, type ProgressReporter } from './progress.js';
import type { CliIO } from './io.js';

interface DemoFlags {
  out: string;
  seeds: string;
  json?: string;
  full?: boolean;
  labelled: string;
  regimes: string;
  temperature: string;
  alpha: string;
  teacherIterations: string;
  studentIterations: string;
  backend?: string;
}

export function parseRegimes(text: string): Regime[] {
  const names = text.split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = names.filter((r) => !(REGIMES as readonly string[]).includes(r));
  if (unknown.length || !names.length) throw new KdnetError(`--regimes takes a comma-separated list of ${REGIMES.join(', ')}; got '${text}'`);
  return [...new Set(names)] as Regime[];
}

function number(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new KdnetError(`${flag} wants a number, got '${text}'`);
  return v;
}

/** One progress bar per stage on a terminal; a plain line per stage otherwise. */
function stageProgress(io: CliIO): { update: (stage: string, done: number, total: number) => void; stop: () => void } {
  let stage = '';
  let bar: ProgressReporter | undefined;
  return {
    update(s, done, total) {
      if (s !== stage) {
        bar?.stop();
        stage = s;
        io.err(`kdnet demo: ${s}\n`);
        bar = progressReporter(process.stderr, s, 'steps');
      }
      bar!.update(done, total);
    },
    stop: () => bar?.stop(),
  };
}

export function registerDemo(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description(
      'knowledge distillation end to end on the shipped Fashion-MNIST subset: train a LeNet teacher on every label, a small MLP student alone ' +
        'on a few labelled images and distilled from the teacher (KnowledgeDistillation), over several seeds; print teacher / student / ' +
        'student + KD test error, parameters and forward time, and write results.json, results.md and errors.svg',
    )
    .option('--out <dir>', 'where the data, nets, logs, snapshots, deployed models and results go', 'runs/demo')
    .option('--seeds <n>', 'train every student with seeds 1..n', '3')
    .option('--json <file>', 'also write the results as JSON here: {"teacher": {"test_error": x}, "student": {"test_error": [per seed]}, "student_kd": {...}, ...}')
    .option('--regimes <list>', `which comparisons to run, of ${REGIMES.join(', ')}: soft targets on the labelled images only; the other training images as an unlabelled transfer set; every label (full data)`, 'labelled,transfer')
    .option('--labelled <n>', 'labelled images the student gets (class-balanced)', '2000')
    .option('--temperature <T>', 'distillation temperature', '4')
    .option('--alpha <a>', 'weight of the hard loss; the soft loss gets 1 - alpha', '0.1')
    .option('--teacher-iterations <n>', 'teacher training iterations (batch 64, Adam)', '1000')
    .option('--student-iterations <n>', 'iterations of every student run (batch 64, SGD)', '1500')
    .option('--full', "the whole Fashion-MNIST (60,000/10,000) from Debian's dataset-fashion-mnist, FASHION_MNIST_DIR or a download, instead of the shipped subset")
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .action(async (o: DemoFlags) => {
      const options = {
        out: o.out,
        seeds: number(o.seeds, '--seeds'),
        json: o.json,
        full: o.full,
        labelled: number(o.labelled, '--labelled'),
        regimes: parseRegimes(o.regimes),
        temperature: number(o.temperature, '--temperature'),
        alpha: number(o.alpha, '--alpha'),
        teacherIterations: number(o.teacherIterations, '--teacher-iterations'),
        studentIterations: number(o.studentIterations, '--student-iterations'),
      };
      await initBackend(o.backend);
      const progress = stageProgress(io);
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.on('SIGINT', onSigint);
      const t0 = performance.now();
      let report;
      try {
        report = await demo({ ...options, progress: progress.update, signal: controller.signal });
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
      io.out(`\n${report.table}\n${report.verdict.join('\n')}\n\n`);
      io.out(`nets and solvers: ${o.out}/nets   logs: ${o.out}/logs   snapshots: ${o.out}/snapshots   deployed models: ${o.out}/deploy\n`);
      io.out(`results: ${report.files.json}, ${report.files.markdown}, ${report.files.svg}${report.files.extraJson ? `, ${report.files.extraJson}` : ''}\n`);
      io.out(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    });
}
