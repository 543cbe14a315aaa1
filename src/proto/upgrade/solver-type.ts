// The solver's legacy `solver_type: ADAM` enum → the `type: "Adam"` string, as Caffe's UpgradeSolverType.
import { caffeEnum, clear, has, type Message } from '../schema.js';
import { KdnetError } from '../../errors.js';
import { positionOf } from '../../prototxt/side-tables.js';

// SolverParameter.SolverType names → the registered solver type strings.
const SOLVER_TYPES: Record<string, string> = {
  SGD: 'SGD',
  NESTEROV: 'Nesterov',
  ADAGRAD: 'AdaGrad',
  RMSPROP: 'RMSProp',
  ADADELTA: 'AdaDelta',
  ADAM: 'Adam',
};

/** Caffe's SolverNeedsTypeUpgrade: the solver sets the legacy `solver_type` field. */
export function solverNeedsTypeUpgrade(solver: Message): boolean {
  return has(solver, 'solver_type');
}

/**
 * Caffe's UpgradeSolverType, in place: `solver_type` becomes `type` and is cleared. As in Caffe, setting both
 * fields is an error even when they agree. Returns the enum name and the type string, for the log.
 * A solver without `solver_type` is left alone (returns undefined).
 */
export function upgradeSolverType(solver: Message): { from: string; to: string } | undefined {
  if (!has(solver, 'solver_type')) return undefined;
  const value = solver.solver_type as number;
  const from = caffeEnum('SolverParameter.SolverType').valuesById[value];
  if (has(solver, 'type')) {
    throw new KdnetError(
      `the solver gives both the legacy solver_type (${from ?? value}) and type ("${String(solver.type)}"); ` +
        `remove solver_type${from && SOLVER_TYPES[from] ? ` (solver_type: ${from} is type: "${SOLVER_TYPES[from]}")` : ''}`,
      { path: 'solver_type', position: positionOf(solver, 'solver_type') },
    );
  }
  const to = from === undefined ? undefined : SOLVER_TYPES[from];
  if (to === undefined) {
    throw new KdnetError(`unknown solver_type ${value}`, { path: 'solver_type', position: positionOf(solver, 'solver_type') });
  }
  solver.type = to;
  clear(solver, 'solver_type');
  return { from: from!, to };
}
