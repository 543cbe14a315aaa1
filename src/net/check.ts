// `kdnet check`: a static look at a net or solver file. Never opens data sources, weights or referenced nets;
// what it cannot know without them is reported as unknown or as a warning.
import fs from 'node:fs';
import path from 'node:path';
import { loadCaffeFile, type NetFormat } from '../proto/load.js';
import type { CaffeMessageKind } from '../proto/text.js';
import type { Message } from '../proto/schema.js';
import { has } from '../proto/schema.js';
import { filterNet, layerIncluded, Phase, phaseName, type NetStateSpec } from './net-state.js';
import { inferShapes, type LayerShapes } from './shapes.js';
import { structureErrors } from './structure.js';
import { mergePhaseProblems, type PhaseProblems } from './phase-problems.js';
import { isRunnableLayer, unrunnableLayersError, type RunnableOptions } from './runnable.js';
import { isKnownLayerType } from '../layers/catalog.js';
import { forkTypesError } from '../proto/forks.js';
import { positionOf } from '../prototxt/side-tables.js';
import { KdnetError, combineBounded, formatPosition, type SourcePosition } from '../errors.js';

export interface LayerRow {
  index: number;
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  /** Phases whose net includes this layer under the given level/stages: 'TRAIN', 'TEST', 'both' or 'none'. */
  phases: 'TRAIN' | 'TEST' | 'both' | 'none';
  known: boolean;
  /** Whether kdnet can run the layer (isRunnableLayer). */
  runnable: boolean;
  position?: SourcePosition;
  /** Top shapes from static inference (undefined where unknown without data). */
  topShapes: (number[] | undefined)[];
  params: number;
  flops?: number;
}

export interface CheckOptions extends RunnableOptions {
  phase?: number;
  level?: number;
  stage?: string[];
  /** Shapes for blobs kdnet cannot know statically (a Data layer's tops), e.g. { data: [64, 1, 28, 28] }. */
  inputShapes?: Record<string, number[]>;
}

export interface NetCheck {
  kind: 'NetParameter';
  file: string;
  name: string;
  format: NetFormat;
  upgrades: string[];
  warnings: string[];
  layers: LayerRow[];
  unknownTypes: Map<string, string[]>;
  /** Parameter count and FLOPs of the whole net per phase (over layers with known shapes). */
  totals: Array<{ phase: string; params: number; flops: number; complete: boolean }>;
  /**
   * What Caffe's Net::Init or a layer's set-up would refuse (in file order; the phase is named when only one
   * phase's net has the problem), then the layer types Caffe master lacks and the layers kdnet cannot run.
   */
  errors: KdnetError[];
}

export interface SolverCheck {
  kind: 'SolverParameter';
  file: string;
  upgrades: string[];
  warnings: string[];
  summary: [string, string][];
}

export type CheckReport = NetCheck | SolverCheck;

function phasesOf(layer: Message, opts: CheckOptions): LayerRow['phases'] {
  const state = (phase: number): NetStateSpec => ({ phase, level: opts.level ?? 0, stage: opts.stage ?? [] });
  const train = layerIncluded(state(Phase.TRAIN), layer);
  const test = layerIncluded(state(Phase.TEST), layer);
  return train && test ? 'both' : train ? 'TRAIN' : test ? 'TEST' : 'none';
}

function checkNet(file: string, net: Message, format: NetFormat, upgrades: string[], warnings: string[], opts: CheckOptions): NetCheck {
  const layers: LayerRow[] = [];
  const unknownTypes = new Map<string, string[]>();
  const phases = opts.phase !== undefined ? [opts.phase] : [Phase.TRAIN, Phase.TEST];
  const inferred = new Map<Message, LayerShapes>();
  const totals: NetCheck['totals'] = [];
  const perPhase: PhaseProblems[] = [];
  for (const phase of phases) {
    const filtered = filterNet(net, { phase, level: opts.level ?? 0, stage: opts.stage ?? [] });
    const { rows, errors } = inferShapes(filtered, phase, opts.inputShapes, path.dirname(file));
    perPhase.push({ phase, errors: [...structureErrors(filtered), ...errors] });
    (filtered.layer as Message[]).forEach((l, i) => inferred.has(l) || inferred.set(l, rows[i]!));
    totals.push({
      phase: phaseName(phase),
      params: rows.reduce((s, r) => s + r.params, 0),
      flops: rows.reduce((s, r) => s + (r.flops ?? 0), 0),
      complete: rows.every((r) => r.tops.every((t) => t)),
    });
  }
  const shown: Message[] = [];
  (net.layer as Message[]).forEach((layer, index) => {
    const phases = phasesOf(layer, opts);
    if (opts.phase !== undefined && phases !== 'both' && phases !== phaseName(opts.phase)) return;
    shown.push(layer);
    const known = isKnownLayerType(layer.type);
    if (!known && layer.type) {
      const names = unknownTypes.get(layer.type);
      if (names) names.push(layer.name);
      else unknownTypes.set(layer.type, [layer.name]);
    }
    layers.push({
      index,
      name: layer.name,
      type: layer.type,
      bottoms: [...layer.bottom],
      tops: [...layer.top],
      phases,
      known,
      runnable: isRunnableLayer(layer, opts),
      position: positionOf(layer),
      topShapes: inferred.get(layer)?.tops ?? layer.top.map(() => undefined),
      params: inferred.get(layer)?.params ?? 0,
      flops: inferred.get(layer)?.flops,
    });
  });
  const merged = mergePhaseProblems(net, perPhase, opts.stage !== undefined || opts.level !== undefined);
  const errors = merged.errors;
  warnings.push(...merged.warnings);
  for (const e of [forkTypesError(shown), unrunnableLayersError(shown, opts)]) if (e) errors.push(e);
  return { kind: 'NetParameter', file, name: net.name, format, upgrades, warnings, layers, unknownTypes, totals, errors };
}

const SOLVER_NET_FIELDS = ['net', 'train_net', 'test_net'] as const;

function checkSolver(file: string, solver: Message, upgrades: string[], warnings: string[]): SolverCheck {
  const summary: [string, string][] = [];
  const dir = path.dirname(file);
  for (const field of SOLVER_NET_FIELDS) {
    const values: string[] = field === 'test_net' ? solver.test_net : has(solver, field) ? [solver[field]] : [];
    for (const v of values) {
      // Caffe resolves these against the working directory; kdnet also looks next to the solver file.
      const found = [v, path.join(dir, v)].some((p) => fs.existsSync(p));
      summary.push([field, found ? v : `${v} (not found: resolved against the working directory when training)`]);
      if (!found) warnings.push(`${field} '${v}' does not exist relative to the working directory or the solver file`);
    }
  }
  if (has(solver, 'net_param')) summary.push(['net_param', `inline net "${solver.net_param.name}"`]);
  if (has(solver, 'train_net_param')) summary.push(['train_net_param', `inline net "${solver.train_net_param.name}"`]);
  if (!SOLVER_NET_FIELDS.some((f) => has(solver, f)) && !has(solver, 'net_param') && !has(solver, 'train_net_param')) {
    warnings.push('the solver names no train net (net, net_param, train_net or train_net_param)');
  }
  const show = (k: string, v: unknown) => summary.push([k, String(v)]);
  show('type', solver.type);
  show('base_lr', solver.base_lr);
  show('lr_policy', solver.lr_policy || '(none: Caffe requires one)');
  show('max_iter', solver.max_iter);
  if (solver.test_iter.length) show('test_iter', solver.test_iter.join(', '));
  if (has(solver, 'test_interval')) show('test_interval', solver.test_interval);
  if (has(solver, 'snapshot')) show('snapshot', `${solver.snapshot} → ${solver.snapshot_prefix || '(no prefix)'}`);
  return { kind: 'SolverParameter', file, upgrades, warnings, summary };
}

export function checkFile(file: string, opts: CheckOptions = {}, kind?: CaffeMessageKind): CheckReport {
  const loaded = loadCaffeFile(file, kind);
  const warnings = loaded.warnings.map((w) => `${formatPosition(w.position)}: ${w.path}: ${w.message}`);
  if (loaded.kind === 'SolverParameter') return checkSolver(file, loaded.message, loaded.upgrades, warnings);
  return checkNet(file, loaded.message, loaded.format ?? 'V2', loaded.upgrades, warnings, opts);
}

/** Everything `kdnet check` found wrong with a net, as one error (the first 20 problems and a count), or undefined. */
export function checkError(report: NetCheck): KdnetError | undefined {
  return report.errors.length ? combineBounded(report.errors) : undefined;
}
