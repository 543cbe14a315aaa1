// The nets a SolverParameter names (Caffe's Solver::InitTrainNet / InitTestNets): inline messages or files,
// each with the folder its relative paths (data sources, side files, layer ports) are resolved against.
import path from 'node:path';
import { has, type Message } from '../proto/schema.js';
import { loadNetFile } from '../proto/load.js';
import { upgradeNetParameter } from '../proto/upgrade/index.js';
import { resolveDataPath } from '../util/resolve-path.js';
import { loadJsLayers } from '../layers/python/preload.js';
import { KdnetError } from '../errors.js';

export interface NetSource {
  param: Message;
  dir?: string;
  label: string;
}

function loadNet(file: string, field: string, baseDir: string | undefined): NetSource {
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

/** The one train net; `baseDir` is the solver file's folder. */
export function trainNetSource(p: Message, baseDir: string | undefined): NetSource {
  const given = ['train_net_param', 'train_net', 'net_param', 'net'].filter((f) => has(p, f));
  if (given.length !== 1) {
    throw new KdnetError(
      given.length ? `give exactly one train net; the solver sets ${given.join(', ')}` : 'the solver names no train net (net, net_param, train_net or train_net_param)',
    );
  }
  if (has(p, 'train_net_param')) return inline(p.train_net_param, 'train_net_param', baseDir);
  if (has(p, 'train_net')) return loadNet(p.train_net, 'train_net', baseDir);
  if (has(p, 'net_param')) return inline(p.net_param, 'net_param', baseDir);
  return loadNet(p.net, 'net', baseDir);
}

export function testNetSources(p: Message, baseDir: string | undefined): NetSource[] {
  const out: NetSource[] = [];
  for (const t of p.test_net_param as Message[]) out.push(inline(t, 'test_net_param', baseDir));
  for (const f of p.test_net as string[]) out.push(loadNet(f, 'test_net', baseDir));
  const remaining = (p.test_iter as number[]).length - out.length;
  if (remaining > 0) {
    // The general net serves the remaining test nets (Caffe: net / net_param, once per leftover test_iter).
    if (has(p, 'net_param')) for (let i = 0; i < remaining; i++) out.push(inline(p.net_param, 'net_param', baseDir));
    else if (has(p, 'net')) for (let i = 0; i < remaining; i++) out.push(loadNet(p.net, 'net', baseDir));
  }
  return out;
}

/** loadJsLayers for every net of a solver (call it before `new Solver`; `train` does). */
export async function loadSolverJsLayers(p: Message, options: { baseDir?: string; layersPath?: string[] } = {}): Promise<void> {
  for (const source of [trainNetSource(p, options.baseDir), ...testNetSources(p, options.baseDir)]) {
    await loadJsLayers(source.param, { layersPath: options.layersPath, baseDir: source.dir });
  }
}
