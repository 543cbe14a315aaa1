// Caffe's solver types: the `type` string and the legacy `solver_type` enum name it replaced.
export const SOLVER_TYPES = [
  { type: 'SGD', legacy: 'SGD' },
  { type: 'Nesterov', legacy: 'NESTEROV' },
  { type: 'AdaGrad', legacy: 'ADAGRAD' },
  { type: 'RMSProp', legacy: 'RMSPROP' },
  { type: 'AdaDelta', legacy: 'ADADELTA' },
  { type: 'Adam', legacy: 'ADAM' },
] as const;

import type { UpdateRule } from './update-rule.js';
import { sgd } from './sgd.js';
import { nesterov } from './nesterov.js';
import { adagrad } from './adagrad.js';
import { rmsprop } from './rmsprop.js';
import { adadelta } from './adadelta.js';
import { adam } from './adam.js';

const rules: Record<string, UpdateRule> = { SGD: sgd, Nesterov: nesterov, AdaGrad: adagrad, RMSProp: rmsprop, AdaDelta: adadelta, Adam: adam };

export function updateRule(type: string): UpdateRule | undefined {
  return rules[type];
}

export function implementedSolverTypes(): ReadonlySet<string> {
  return new Set(Object.keys(rules));
}
