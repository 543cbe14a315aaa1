// File → current-format message: read, parse, upgrade. The first two arrows of kdnet's data path.
import { readCaffeTextFile, type CaffeMessageKind } from './text.js';
import { upgradeNetParameter, upgradeSolverParameter } from './upgrade/index.js';
import type { Diagnostic } from '../prototxt/binder.js';
import type { Message } from './schema.js';

export type NetFormat = 'V0' | 'V1' | 'V2';

export interface LoadedMessage {
  kind: CaffeMessageKind;
  message: Message;
  /** For nets: the syntax the file was written in, before upgrades. */
  format?: NetFormat;
  upgrades: string[];
  warnings: Diagnostic[];
}

export function detectNetFormat(net: Message): NetFormat {
  const v1 = net.layers as Message[];
  if (v1.length === 0) return 'V2';
  return v1.some((l) => l.layer != null && Object.prototype.hasOwnProperty.call(l, 'layer')) ? 'V0' : 'V1';
}

export function loadCaffeFile(file: string, kind?: CaffeMessageKind): LoadedMessage {
  const parsed = readCaffeTextFile(file, kind);
  if (parsed.kind === 'SolverParameter') {
    const { solver, applied } = upgradeSolverParameter(parsed.message, file);
    return { kind: parsed.kind, message: solver, upgrades: applied, warnings: parsed.warnings };
  }
  const format = detectNetFormat(parsed.message);
  const { net, applied } = upgradeNetParameter(parsed.message, file);
  return { kind: parsed.kind, message: net, format, upgrades: applied, warnings: parsed.warnings };
}

export function loadNetFile(file: string): LoadedMessage {
  return loadCaffeFile(file, 'NetParameter');
}

export function loadSolverFile(file: string): LoadedMessage {
  return loadCaffeFile(file, 'SolverParameter');
}
