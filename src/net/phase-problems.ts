// `kdnet check` builds the net of each phase: this merges what each phase's net got wrong into one list. A
// problem every net has is said once; one that only some phases have names them. A problem only some phases
// have is a warning, not an error, when the file may never be built that way: a deploy file whose layers
// name only TEST, or a net that selects layers by stage or level when none was given (its solver's
// train_state/test_state would).
import { has, type Message } from '../proto/schema.js';
import { Phase, phaseName } from './net-state.js';
import { KdnetError, REPORTED_ERRORS_LIMIT } from '../errors.js';

export interface PhaseProblems {
  phase: number;
  errors: KdnetError[];
}

/** Phases the file names: in include rules, as the other phase in exclude rules, in its `state`. */
function namedPhases(net: Message): Set<number> {
  const named = new Set<number>();
  for (const l of net.layer as Message[]) {
    for (const r of l.include as Message[]) if (has(r, 'phase')) named.add(r.phase);
    for (const r of l.exclude as Message[]) if (has(r, 'phase')) named.add(r.phase === Phase.TRAIN ? Phase.TEST : Phase.TRAIN);
  }
  if (has(net, 'state') && has(net.state, 'phase')) named.add(net.state.phase);
  return named;
}

function usesStageRules(net: Message): boolean {
  const staged = (r: Message) => has(r, 'stage') || has(r, 'not_stage') || has(r, 'min_level') || has(r, 'max_level');
  return (net.layer as Message[]).some((l) => (l.include as Message[]).some(staged) || (l.exclude as Message[]).some(staged));
}

/** Why problems found only in `phase`'s net may not be problems of the file, or undefined. */
function phaseDoubt(net: Message, phase: number, stateGiven: boolean): string | undefined {
  const named = namedPhases(net);
  if (named.size === 1 && !named.has(phase)) {
    return `the file's phase rules name only ${phaseName([...named][0]!)}, so it may never be built for ${phaseName(phase)}`;
  }
  if (!stateGiven && usesStageRules(net)) {
    return "the net selects layers by stage or level: give --stage/--level as its solver's train_state/test_state does";
  }
  return undefined;
}

const byPosition = (a: KdnetError, b: KdnetError) => {
  const pa = a.where.position;
  const pb = b.where.position;
  return (pa?.line ?? Infinity) - (pb?.line ?? Infinity) || (pa?.column ?? 0) - (pb?.column ?? 0);
};

/**
 * One list of errors (in file order) and warnings from the problems of each phase's net. `stateGiven`: the
 * user chose the stages or level.
 */
export function mergePhaseProblems(net: Message, perPhase: PhaseProblems[], stateGiven: boolean): { errors: KdnetError[]; warnings: string[] } {
  const seen = new Map<string, { error: KdnetError; phases: number[] }>();
  for (const { phase, errors } of perPhase) {
    for (const e of errors) {
      const key = e.oneLine;
      const entry = seen.get(key);
      if (entry) entry.phases.push(phase);
      else seen.set(key, { error: e, phases: [phase] });
    }
  }
  const errors: KdnetError[] = [];
  const doubtful: KdnetError[] = [];
  for (const { error, phases } of seen.values()) {
    if (phases.length === perPhase.length) {
      errors.push(error);
      continue;
    }
    const only = `in the ${phases.map(phaseName).join(' and ')} net`;
    const doubts = phases.map((p) => phaseDoubt(net, p, stateGiven));
    if (doubts.every((d) => d)) doubtful.push(new KdnetError(`${error.message} (${only}; ${doubts[0]})`, error.where));
    else errors.push(new KdnetError(`${error.message} (${only})`, error.where));
  }
  const warnings = doubtful.sort(byPosition).map((e) => e.oneLine);
  if (warnings.length > REPORTED_ERRORS_LIMIT) warnings.splice(REPORTED_ERRORS_LIMIT, Infinity, `… and ${warnings.length - REPORTED_ERRORS_LIMIT} more`);
  return { errors: errors.sort(byPosition), warnings };
}
