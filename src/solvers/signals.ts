// SIGINT / SIGHUP as Caffe's SignalHandler: each signal maps to an action (stop, snapshot, none) that the
// solver polls after every iteration. Ctrl-C snapshots and stops by default, so no work is lost.
import type { SolverAction } from './solver.js';
import { KdnetError } from '../errors.js';

export type SignalEffect = 'stop' | 'snapshot' | 'none';

export function parseSignalEffect(flag: string, value: string): SignalEffect {
  if (value === 'stop' || value === 'snapshot' || value === 'none') return value;
  throw new KdnetError(`--${flag} must be stop, snapshot or none, got '${value}'`);
}

/** Installs the handlers; returns the poll function and an uninstaller. */
export function installSignalHandlers(sigint: SignalEffect, sighup: SignalEffect): { poll: () => SolverAction; uninstall: () => void } {
  let pending: SolverAction = 'none';
  // Caffe's default for Ctrl-C is "stop"; Solve() then writes the final snapshot (snapshot_after_train).
  const onInt = () => {
    if (sigint === 'none') return;
    pending = sigint === 'stop' ? 'stop' : 'snapshot';
  };
  const onHup = () => {
    if (sighup === 'none') return;
    pending = sighup === 'stop' ? 'stop' : 'snapshot';
  };
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  return {
    poll: () => {
      const a = pending;
      pending = 'none';
      return a;
    },
    uninstall: () => {
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
    },
  };
}
