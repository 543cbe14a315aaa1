// Caffe's NetState rules: which layers a net keeps for a given phase, level and stages
// (Net::FilterNet and Net::StateMeetsRule).
import { has, newMessage, type Message } from '../proto/schema.js';
import { copySideTables } from '../prototxt/side-tables.js';
import { KdnetError } from '../errors.js';
import { positionOf } from '../prototxt/side-tables.js';

export const Phase = { TRAIN: 0, TEST: 1 } as const;
export type PhaseName = keyof typeof Phase;

export interface NetStateSpec {
  phase: number;
  level: number;
  stage: string[];
}

export function phaseName(p: number): PhaseName {
  return p === Phase.TEST ? 'TEST' : 'TRAIN';
}

export function parsePhase(s: string): number {
  const up = s.toUpperCase();
  if (up === 'TRAIN' || up === 'TEST') return Phase[up];
  throw new KdnetError(`unknown phase '${s}' (expected TRAIN or TEST)`);
}

/** Reads a NetState message (phase defaults to TEST, as in caffe.proto). */
export function readNetState(state: Message | undefined): NetStateSpec {
  return {
    phase: state?.phase ?? Phase.TEST,
    level: state?.level ?? 0,
    stage: [...((state?.stage as string[] | undefined) ?? [])],
  };
}

/** StateMeetsRule: every condition the rule sets must hold. */
export function stateMeetsRule(state: NetStateSpec, rule: Message): boolean {
  if (has(rule, 'phase') && rule.phase !== state.phase) return false;
  if (has(rule, 'min_level') && state.level < rule.min_level) return false;
  if (has(rule, 'max_level') && state.level > rule.max_level) return false;
  for (const s of rule.stage as string[]) if (!state.stage.includes(s)) return false;
  for (const s of rule.not_stage as string[]) if (state.stage.includes(s)) return false;
  return true;
}

/** Whether a (V2) layer is part of the net in this state. */
export function layerIncluded(state: NetStateSpec, layer: Message): boolean {
  const include = layer.include as Message[];
  const exclude = layer.exclude as Message[];
  if (include.length && exclude.length) {
    throw new KdnetError('specify either include rules or exclude rules, not both', {
      layer: layer.name,
      position: positionOf(layer, 'include'),
      path: `layer "${layer.name}"`,
    });
  }
  if (include.length === 0) return !exclude.some((r) => stateMeetsRule(state, r));
  return include.some((r) => stateMeetsRule(state, r));
}

/**
 * FilterNet: a NetParameter holding only the layers this state includes. Layer messages are shared with the
 * input (not copied), so positions in the source text stay attached to them.
 */
export function filterNet(net: Message, state: NetStateSpec): Message {
  const out = newMessage('NetParameter');
  for (const key of Object.keys(net)) {
    if (key !== 'layer') (out as Record<string, unknown>)[key] = net[key];
  }
  copySideTables(net, out);
  out.layer = (net.layer as Message[]).filter((l) => layerIncluded(state, l));
  out.state = newMessage('NetState', { phase: state.phase, level: state.level, stage: [...state.stage] });
  return out;
}

/**
 * The state a net runs in, as Caffe composes it: the net file's own `state`, overridden by what the
 * caller (solver train_state/test_state or the CLI) sets. Stages are appended, as protobuf's MergeFrom does.
 */
export function composeState(netState: Message | undefined, override: Partial<NetStateSpec> & { phase: number }): NetStateSpec {
  const base = readNetState(netState);
  return {
    phase: override.phase,
    level: override.level ?? base.level,
    stage: [...base.stage, ...(override.stage ?? [])],
  };
}
