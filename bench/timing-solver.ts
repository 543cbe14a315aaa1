// The solver the step benches drive: a timing net of ../shared/fixtures/timing with random inputs fed once
// (labels 0–9), the given solver type (momentum 0.9 where the type has one), warmed up by 5 steps.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadNetFile } from '../dist/proto/load.js';
import { Solver, newSolverParameter } from '../dist/solvers/solver.js';

const timingDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fixtures', 'timing');

export async function timingSolver(net: string, type: string): Promise<Solver> {
  const { message } = loadNetFile(path.join(timingDir, `${net}.prototxt`));
  const momentum = type === 'AdaGrad' || type === 'RMSProp' ? 0 : 0.9;
  const solver = new Solver(newSolverParameter({ net_param: message, type, base_lr: 0.01, momentum, weight_decay: 0.0005, lr_policy: 'fixed', max_iter: 1000000, display: 0, snapshot_after_train: false }));
  for (const input of solver.net.inputNames) {
    const shape = solver.net.blobShape(input)!;
    solver.net.setInput(input, input === 'label' ? tf.floor(tf.randomUniform(shape, 0, 10)) : tf.randomNormal(shape));
  }
  await solver.step(5);
  return solver;
}

/** Removes `--name VALUE` from `args` and returns VALUE (undefined when absent): the step benches' options. */
export function takeOption(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
}
