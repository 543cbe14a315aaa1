// One training run of the demo: the net and solver are written as prototxt files a user can read and re-run
// with `kdnet train`, trained through the same library call, with Caffe's log lines going to a log file
// (kdnet plot reads it) instead of the terminal; the final test pass gives the test error.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { prefix, setLogSink } from '../log.js';
import { printCaffeText } from '../proto/text.js';
import type { Message } from '../proto/schema.js';
import { train } from '../solvers/train.js';
import type { TestEvent } from '../solvers/solver.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface RunFiles {
  net: string;
  solver: string;
  log: string;
  snapshotPrefix: string;
  /** The final snapshot's weights. */
  weights: string;
}

export interface RunResult extends RunFiles {
  testError: number;
  seconds: number;
}

export function runFiles(dir: string, name: string, iterations: number): RunFiles {
  return {
    net: path.join(dir, 'nets', `${name}.prototxt`),
    solver: path.join(dir, 'nets', `${name}_solver.prototxt`),
    log: path.join(dir, 'logs', `${name}.log`),
    snapshotPrefix: path.join(dir, 'snapshots', name),
    weights: path.join(dir, 'snapshots', `${name}_iter_${iterations}.caffemodel`),
  };
}

export interface TrainRunOptions {
  files: RunFiles;
  net: Message;
  solver: Message;
  /** .caffemodel files to start from (a teacher's, for nets that hold one). */
  weights?: string[];
  onProgress?: (iter: number, maxIter: number) => void;
}

function accuracyOf(e: TestEvent | undefined, name: string): number {
  const acc = e?.outputs.find((o) => o.name === 'accuracy');
  if (!acc) throw new KdnetError(`${name}: the test net reported no "accuracy" output`);
  return acc.value;
}

/** Runs `job` with kdnet's log lines going to `file` (Caffe's format, as `kdnet train` prints them). */
export async function withLogFile<T>(file: string, job: () => Promise<T> | T): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const previous = setLogSink((level, message) => fs.writeSync(fd, `${prefix(level)} ${message}\n`));
  try {
    return await job();
  } finally {
    setLogSink(previous);
    fs.closeSync(fd);
  }
}

export async function trainRun(o: TrainRunOptions): Promise<RunResult> {
  const { files } = o;
  for (const f of [files.net, files.weights]) fs.mkdirSync(path.dirname(f), { recursive: true });
  writeFileAtomic(files.net, printCaffeText(o.net, 'NetParameter'));
  o.solver.net = files.net;
  o.solver.snapshot_prefix = files.snapshotPrefix;
  writeFileAtomic(files.solver, printCaffeText(o.solver, 'SolverParameter'));
  let last: TestEvent | undefined;
  const t0 = performance.now();
  await withLogFile(files.log, async () => {
    const solver = await train({ solver: files.solver, weights: o.weights, onProgress: o.onProgress, onTest: (e) => (last = e) });
    solver.dispose();
  });
  return { ...files, testError: 1 - accuracyOf(last, files.solver), seconds: (performance.now() - t0) / 1000 };
}
