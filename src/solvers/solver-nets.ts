// The nets a SolverParameter names (Caffe's InitTrainNet / InitTestNets): the train net and the test nets,
// each read from a file or given inline, upgraded, and the NetState each is filtered with. validateSolver
// has checked the counts (one train net, one test_iter per test net).
import path from 'node:path';
import { has, type Message } from '../proto/schema.js';
import { loadNetFile } from '../proto/load.js';
import { upgradeNetParameter } from '../proto/upgrade/index.js';
import type { NetStateSpec } from '../net/net-state.js';
import { resolveDataPath } from '../util/resolve-path.js';
import { KdnetError } from '../errors.js';
import { loadJsLayers } from '../layers/python/preload.js';

export interface NetSource {
  param: Message;
  /** Folder relative data paths of the net are tried against (after the working directory). */
  dir?: string;
  /** For the log: "net file: x.prototxt", "net_param specified in solver parameters". */
  label: string;
}

/** NetState merge as Caffe does it: phase default, then the net file's state, then the solver's state (stages appended). */
export function mergeState(phase: number, fileState: Message | undefined, solverState: Message | undefined, extraStages: string[], level?: number): NetStateSpec {
  const s: NetStateSpec = { phase, level: 0, stage: [] };
  for (const m of [fileState, solverState]) {
    if (!m) continue;
    if (has(m, 'phase')) s.phase = m.phase;
    if (has(m, 'level')) s.level = Number(m.level);
    s.stage = s.stage.concat(m.stage as string[]);
  }
  s.stage = s.stage.concat(extraStages);
  if (level !== undefined) s.level = level;
  return s;
}

function fromFile(file: string, field: string, baseDir: string | undefined): NetSource {
  const resolved = resolveDataPath(file, baseDir);
  try {
    const { message } = loadNetFile(resolved);
    return { param: message, dir: path.dirname(resolved), label: `net file: ${file}` };
  } catch (e) {
    if (e instanceof KdnetError && /cannot read/.test(e.message)) throw new KdnetError(`${field} '${file}': ${e.message}`);
    throw e;
  }
}

function inline(param: Message, field: string, baseDir: string | undefined): NetSource {
  return { param: upgradeNetParameter(param, field).net, dir: baseDir, label: `${field} specified in solver parameters` };
}

export function trainNetSource(p: Message, baseDir?: string): NetSource {
  if (has(p, 'train_net_param')) return inline(p.train_net_param, 'train_net_param', baseDir);
  if (has(p, 'train_net')) return fromFile(p.train_net, 'train_net', baseDir);
  if (has(p, 'net_param')) return inline(p.net_param, 'net_param', baseDir);
  return fromFile(p.net, 'net', baseDir);
}

export function testNetSources(p: Message, baseDir?: string): NetSource[] {
  const out: NetSource[] = [];
  for (const t of p.test_net_param as Message[]) out.push(inline(t, 'test_net_param', baseDir));
  for (const f of p.test_net as string[]) out.push(fromFile(f, 'test_net', baseDir));
  const remaining = (p.test_iter as number[]).length - out.length;
  if (remaining > 0) {
    // The general net serves the remaining test nets (Caffe: net / net_param, once per leftover test_iter).
    if (has(p, 'net_param')) for (let i = 0; i < remaining; i++) out.push(inline(p.net_param, 'net_param', baseDir));
    else if (has(p, 'net')) for (let i = 0; i < remaining; i++) out.push(fromFile(p.net, 'net', baseDir));
  }
  return out;
}

/** loadJsLayers for every net of a solver (call it before `new Solver`; `train` does). */
export async function loadSolverJsLayers(p: Message, options: { baseDir?: string; layersPath?: string[] } = {}): Promise<void> {
  for (const source of [trainNetSource(p, options.baseDir), ...testNetSources(p, options.baseDir)]) {
    await loadJsLayers(source.param, { layersPath: options.layersPath, baseDir: source.dir });
  }
}
