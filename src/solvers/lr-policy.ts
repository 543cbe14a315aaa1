// Caffe's learning-rate policies (SGDSolver::GetLearningRate), in float32 like Caffe's Dtype.
// The policies and the fields each reads besides base_lr (src/solvers/validate.ts checks them up front).
import type { Message } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';

export const LR_POLICY_FIELDS: Readonly<Record<string, ReadonlyArray<'gamma' | 'power' | 'stepsize' | 'stepvalue'>>> = {
  fixed: [],
  step: ['gamma', 'stepsize'],
  exp: ['gamma'],
  inv: ['gamma', 'power'],
  multistep: ['gamma', 'stepvalue'],
  poly: ['power'],
  sigmoid: ['gamma', 'stepsize'],
};

const f = Math.fround;

export class LearningRate {
  /** multistep's position in stepvalue (saved in .solverstate as current_step). */
  currentStep = 0;

  constructor(private readonly p: Message) {}

  rate(iter: number): number {
    const p = this.p;
    const base = f(p.base_lr);
    switch (p.lr_policy as string) {
      case 'fixed':
        return base;
      case 'step': {
        // Caffe records the step index here too (it is saved as current_step in the .solverstate).
        this.currentStep = Math.floor(iter / Number(p.stepsize));
        return f(base * f(Math.pow(p.gamma, this.currentStep)));
      }
      case 'exp':
        return f(base * f(Math.pow(p.gamma, iter)));
      case 'inv':
        return f(base * f(Math.pow(f(1 + f(p.gamma * iter)), -p.power)));
      case 'multistep': {
        const steps = (p.stepvalue as number[]).map(Number);
        if (this.currentStep < steps.length && iter >= steps[this.currentStep]!) {
          this.currentStep++;
          log.info(`MultiStep Status: Iteration ${iter}, step = ${this.currentStep}`);
        }
        return f(base * f(Math.pow(p.gamma, this.currentStep)));
      }
      case 'poly':
        return f(base * f(Math.pow(f(1 - f(iter / Number(p.max_iter))), p.power)));
      case 'sigmoid':
        return f(base * f(1 / f(1 + f(Math.exp(f(-p.gamma * f(iter - Number(p.stepsize))))))));
      default:
        throw new KdnetError(`unknown lr_policy '${p.lr_policy}'`);
    }
  }
}
