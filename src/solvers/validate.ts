// Caffe's solver CHECKs, made up front: every problem of a SolverParameter is found before any net is built
// and reported together, each naming its field's file:line:col. Caffe checks most of these only when a value
// is first used (lr_policy and stepsize at the first learning rate, rms_decay in the RMSProp constructor) and
// some never (a negative max_iter trains nothing and says "Optimization Done"; base_lr: nan diverges at
// iteration 1); kdnet refuses those too. Pure: reads nothing but the message.
import { has, type Message } from '../proto/schema.js';
import { positionOf } from '../prototxt/side-tables.js';
import { closest } from '../prototxt/suggest.js';
import { formatFloat } from '../prototxt/number-format.js';
import { KdnetError, type SourcePosition } from '../errors.js';
import { implementedSolverTypes } from './catalog.js';
import { LR_POLICY_FIELDS } from './lr-policy.js';

const TRAIN_NET_FIELDS = ['net', 'net_param', 'train_net', 'train_net_param'] as const;

/** Per solver type: whether it uses momentum (AdaGrad and RMSProp forbid it) and delta. */
const USES_MOMENTUM = new Set(['SGD', 'Nesterov', 'AdaDelta', 'Adam']);
const USES_DELTA = new Set(['AdaGrad', 'RMSProp', 'AdaDelta', 'Adam']);

const num = (v: unknown) => Number(v);
const show = (v: number) => (Number.isInteger(v) ? String(v) : formatFloat(v));

export function solverProblems(p: Message): KdnetError[] {
  const problems: KdnetError[] = [];
  const whole = positionOf(p);
  /** A field's own position when the text sets it; else `fallback`'s (the field that needs it). */
  const at = (field: string, fallback?: string, index?: number): SourcePosition | undefined => {
    const own = positionOf(p, field, index);
    if (!samePosition(own, whole) || !fallback) return own;
    return positionOf(p, fallback);
  };
  const problem = (field: string, message: string, fallback?: string, index?: number) =>
    problems.push(new KdnetError(message, { path: index === undefined ? field : `${field}[${index}]`, position: at(field, fallback, index) }));

  // ---- nets (Solver::InitTrainNet, InitTestNets)
  const trainNets = TRAIN_NET_FIELDS.filter((f) => has(p, f));
  if (trainNets.length === 0) problems.push(new KdnetError(`the solver names no train net: give one of ${TRAIN_NET_FIELDS.join(', ')}`, { position: whole }));
  if (trainNets.length > 1) problem(trainNets[1]!, `give exactly one train net; the solver sets ${trainNets.join(' and ')}`);
  const testIters = (p.test_iter as number[]).map(num);
  const explicitTests = (p.test_net_param as Message[]).length + (p.test_net as string[]).length;
  const generic = has(p, 'net') || has(p, 'net_param');
  const testNets = generic ? Math.max(testIters.length, explicitTests) : explicitTests;
  if (generic ? testIters.length < explicitTests : testIters.length !== explicitTests) {
    const field = testIters.length ? 'test_iter' : explicitTests ? ((p.test_net as string[]).length ? 'test_net' : 'test_net_param') : 'test_iter';
    problem(
      field,
      `give one test_iter per test net: the solver has ${explicitTests} test net${explicitTests === 1 ? '' : 's'} (test_net, test_net_param) but ${testIters.length} test_iter value${testIters.length === 1 ? '' : 's'}` +
        (generic ? ` (with ${has(p, 'net') ? 'net' : 'net_param'}, extra test_iter values test that net)` : ''),
    );
  }
  testIters.forEach((v, i) => v < 0 && problem('test_iter', `test_iter must be ≥ 0, got ${v}`, undefined, i));
  const testStates = (p.test_state as Message[]).length;
  if (testStates && testStates !== testNets) problem('test_state', `test_state must be given once per test net (${testNets}) or not at all; it is given ${testStates === 1 ? 'once' : `${testStates} times`}`);
  if (testNets > 0 && !(num(p.test_interval) > 0)) {
    problem('test_interval', `test_interval must be > 0 when the solver has test nets (it has ${testNets}); got ${num(p.test_interval)}`, 'test_iter');
  }

  // ---- type and update-rule constants (solver factory, the solvers' sanity checks)
  const type = String(p.type);
  const types = [...implementedSolverTypes()];
  // A legacy `solver_type` was upgraded into `type`: errors point at the line the user wrote.
  const typeField = samePosition(positionOf(p, 'solver_type'), whole) ? 'type' : 'solver_type';
  if (!types.includes(type)) {
    const guess = closest(type, types);
    problem(typeField, `unknown solver type "${type}"${guess ? ` (did you mean "${guess}"?)` : ''}; known types: ${types.join(', ')}`);
  }
  const momentum = num(p.momentum);
  if (type === 'AdaGrad' || type === 'RMSProp') {
    if (momentum !== 0) problem('momentum', `momentum cannot be used with ${type}: remove it or set it to 0, got ${show(momentum)}`);
  } else if (USES_MOMENTUM.has(type) && !(momentum >= 0 && momentum < 1)) {
    problem('momentum', `momentum must lie in [0, 1), got ${show(momentum)}`);
  }
  if (type === 'Adam' && !(num(p.momentum2) >= 0 && num(p.momentum2) < 1)) problem('momentum2', `momentum2 must lie in [0, 1), got ${show(num(p.momentum2))}`);
  if (type === 'RMSProp' && !(num(p.rms_decay) >= 0 && num(p.rms_decay) < 1)) {
    problem('rms_decay', `rms_decay should lie between 0 and 1 (0 ≤ rms_decay < 1), got ${show(num(p.rms_decay))}`);
  }
  if (USES_DELTA.has(type)) {
    const delta = num(p.delta);
    if (type === 'AdaDelta' ? !(delta > 0 && Number.isFinite(delta)) : !(delta >= 0 && Number.isFinite(delta))) {
      problem('delta', `delta must be a finite number ${type === 'AdaDelta' ? '> 0 (AdaDelta makes no update with delta 0)' : '≥ 0'}, got ${show(delta)}`);
    }
  }

  // ---- learning rate (SGDSolver::GetLearningRate)
  const baseLr = num(p.base_lr);
  if (!(Number.isFinite(baseLr) && baseLr >= 0)) problem('base_lr', `base_lr must be a finite number ≥ 0, got ${show(baseLr)}`);
  const policy = String(p.lr_policy ?? '');
  const policies = Object.keys(LR_POLICY_FIELDS);
  if (!has(p, 'lr_policy') || policy === '') {
    problems.push(new KdnetError(`the solver has no lr_policy (one of ${policies.join(', ')})`, { path: 'lr_policy', position: whole }));
  } else if (!policies.includes(policy)) {
    const guess = closest(policy, policies);
    problem('lr_policy', `unknown lr_policy "${policy}"${guess ? ` (did you mean "${guess}"?)` : ''}; one of ${policies.join(', ')}`);
  } else {
    for (const need of LR_POLICY_FIELDS[policy]!) {
      if (!has(p, need)) {
        problem(need, `lr_policy "${policy}" needs ${need}${need === 'stepvalue' ? ' (one or more, increasing)' : ''}`, 'lr_policy');
        continue;
      }
      if (need === 'gamma' && !(num(p.gamma) >= 0 && Number.isFinite(num(p.gamma)))) problem('gamma', `gamma must be a finite number ≥ 0, got ${show(num(p.gamma))}`);
      if (need === 'power' && !Number.isFinite(num(p.power))) problem('power', `power must be a finite number, got ${show(num(p.power))}`);
      if (need === 'stepsize' && !(num(p.stepsize) > 0)) problem('stepsize', `lr_policy "${policy}" needs stepsize > 0, got ${num(p.stepsize)}`);
      if (need === 'stepvalue') {
        const steps = (p.stepvalue as number[]).map(num);
        steps.forEach((v, i) => {
          if (v < 0) problem('stepvalue', `stepvalue must be ≥ 0, got ${v}`, undefined, i);
          else if (i > 0 && v <= steps[i - 1]!) problem('stepvalue', `stepvalue must increase: ${v} follows ${steps[i - 1]}`, undefined, i);
        });
      }
    }
    if (policy === 'poly') {
      if (num(p.power) < 0) problem('power', `lr_policy "poly" needs power ≥ 0 (the rate would grow without bound at max_iter), got ${show(num(p.power))}`);
      if (!(num(p.max_iter) > 0)) problem('max_iter', `lr_policy "poly" needs max_iter > 0 (it decays the rate to 0 at max_iter), got ${num(p.max_iter)}`, 'lr_policy');
    }
  }

  // ---- iteration counts, regularization, clipping, snapshots (Solver::Init, Step, SGDSolver::Regularize)
  if (num(p.max_iter) < 0) problem('max_iter', `max_iter must be ≥ 0, got ${num(p.max_iter)} (it would train nothing)`);
  if (!(num(p.average_loss) >= 1)) problem('average_loss', `average_loss must be at least 1, got ${num(p.average_loss)}`);
  if (!(num(p.iter_size) >= 1)) problem('iter_size', `iter_size must be at least 1, got ${num(p.iter_size)}`);
  for (const field of ['display', 'snapshot'] as const) {
    if (num(p[field]) < 0) problem(field, `${field} must be ≥ 0 (0 turns it off), got ${num(p[field])}`);
  }
  const decay = num(p.weight_decay);
  if (!(Number.isFinite(decay) && decay >= 0)) problem('weight_decay', `weight_decay must be a finite number ≥ 0, got ${show(decay)}`);
  const reg = String(p.regularization_type);
  if (reg !== 'L1' && reg !== 'L2') {
    const guess = closest(reg, ['L1', 'L2']);
    problem('regularization_type', `unknown regularization_type "${reg}"${guess ? ` (did you mean "${guess}"?)` : ''}; L1 or L2`);
  }
  if (Number.isNaN(num(p.clip_gradients))) problem('clip_gradients', 'clip_gradients must be a number (a negative value turns clipping off), got nan');
  if (num(p.snapshot_format) !== 0 && num(p.snapshot_format) !== 1) problem('snapshot_format', `snapshot_format must be HDF5 or BINARYPROTO, got ${p.snapshot_format}`);
  // In the order of the file, as a reader fixes them.
  return problems.sort((a, b) => order(a) - order(b));
}

function order(e: KdnetError): number {
  const p = e.where.position;
  return p ? p.line * 1e6 + p.column : 0;
}

/** Throws every problem of the solver together (the first with the others attached), or returns. */
export function validateSolver(p: Message): void {
  const problems = solverProblems(p);
  if (problems.length) throw KdnetError.combine(problems);
}

function samePosition(a: SourcePosition | undefined, b: SourcePosition | undefined): boolean {
  return a?.line === b?.line && a?.column === b?.column && a?.file === b?.file;
}
