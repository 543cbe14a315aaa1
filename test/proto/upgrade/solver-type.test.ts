// Legacy solver_type enum → type string (Caffe's UpgradeSolverType).
import { describe, expect, it } from 'vitest';
import { has } from '../../../src/proto/schema.js';
import { KdnetError } from '../../../src/errors.js';
import { solverNeedsTypeUpgrade, upgradeSolverType } from '../../../src/proto/upgrade/solver-type.js';
import { solver } from './helpers.js';

describe('solver_type upgrade', () => {
  const cases: [string, string][] = [
    ['SGD', 'SGD'],
    ['NESTEROV', 'Nesterov'],
    ['ADAGRAD', 'AdaGrad'],
    ['RMSPROP', 'RMSProp'],
    ['ADADELTA', 'AdaDelta'],
    ['ADAM', 'Adam'],
  ];
  for (const [from, to] of cases) {
    it(`solver_type: ${from} → type: "${to}"`, () => {
      const s = solver(`base_lr: 0.01 solver_type: ${from}`);
      expect(solverNeedsTypeUpgrade(s)).toBe(true);
      expect(upgradeSolverType(s)).toEqual({ from, to });
      expect(s.type).toBe(to);
      expect(has(s, 'type')).toBe(true);
      expect(has(s, 'solver_type')).toBe(false);
      expect(solverNeedsTypeUpgrade(s)).toBe(false);
    });
  }

  it('leaves a solver without solver_type alone', () => {
    const s = solver(`type: "Adam"`);
    expect(solverNeedsTypeUpgrade(s)).toBe(false);
    expect(upgradeSolverType(s)).toBeUndefined();
    expect(s.type).toBe('Adam');
  });

  it('refuses solver_type together with type, even when they agree (as Caffe does)', () => {
    for (const text of [`solver_type: ADAM type: "SGD"`, `solver_type: ADAM type: "Adam"`]) {
      const s = solver(text, 'solver.prototxt');
      try {
        upgradeSolverType(s);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KdnetError);
        expect((e as KdnetError).message).toMatch(
          /^the solver gives both the legacy solver_type \(ADAM\) and type \("(SGD|Adam)"\); remove solver_type \(solver_type: ADAM is type: "Adam"\)$/,
        );
        expect((e as KdnetError).where.position).toEqual({ file: 'solver.prototxt', line: 1, column: 1 });
      }
    }
  });
});
