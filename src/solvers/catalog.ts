// Caffe's solver types: the `type` string and the legacy `solver_type` enum name it replaced.
export const SOLVER_TYPES = [
  { type: 'SGD', legacy: 'SGD' },
  { type: 'Nesterov', legacy: 'NESTEROV' },
  { type: 'AdaGrad', legacy: 'ADAGRAD' },
  { type: 'RMSProp', legacy: 'RMSPROP' },
  { type: 'AdaDelta', legacy: 'ADADELTA' },
  { type: 'Adam', legacy: 'ADAM' },
] as const;

const implemented = new Set<string>();

export function markSolverImplemented(type: string): void {
  implemented.add(type);
}

export function implementedSolverTypes(): ReadonlySet<string> {
  return implemented;
}
