// A small WebAssembly module, assembled here byte by byte, that runs each solver's parameter update in one
// SIMD pass over tfjs' own wasm memory (imported): the six to fourteen elementwise tfjs kernels of an update
// (each a pass over memory into a fresh output) become one pass writing the new parameter and histories.
// Every operation rounds to float32 exactly as the separate tfjs kernels do, in the same order (wasm has no
// fused multiply-add; its division and square root are correctly rounded like tfjs-wasm's), so results are
// bitwise the same. Outputs are new buffers, never the inputs: tfjs-wasm caches XNNPACK operators with
// prepacked weights by tensor id, so a weight changed in place would be multiplied stale.

export type FusedRule = 'SGD' | 'Nesterov' | 'AdaGrad' | 'RMSProp' | 'AdaDelta' | 'Adam';

/**
 * An exported function: byte offsets of param, diff, the k histories, the new param and the k new
 * histories; the element count; then the float32 scalars scale (1/iter_size), decay and the rule's own
 * (RULES[rule].scalars), each given as the tfjs path rounds it.
 */
export type UpdateFunction = (...args: number[]) => void;

export type UpdateModule = Record<`${FusedRule}${'' | 'Decay'}`, UpdateFunction>;

import { F32, I32, V128, get, moduleBytes, set, sleb, simd, type Code, type WasmFunction } from '../util/wasm-asm.js';

const TEMPS = 3;

/** The arithmetic of one element (scalar) or four (SIMD), so both loops share one formula. */
interface Lane {
  load(ptr: number): Code;
  store(ptr: number, value: Code): Code;
  mul(a: Code, b: Code): Code;
  add(a: Code, b: Code): Code;
  sub(a: Code, b: Code): Code;
  div(a: Code, b: Code): Code;
  sqrt(a: Code): Code;
  /** Scalar argument `i` (0 scale, 1 decay, then the rule's). */
  k(i: number): Code;
  keep(slot: number, value: Code): Code;
  kept(slot: number): Code;
  width: number;
}

/** Where a function's arguments and locals are, for a rule with `histories` history blobs and `scalars` scalars. */
function layout(histories: number, scalars: number) {
  const n = 3 + 2 * histories;
  const firstLocal = n + 1 + 2 + scalars;
  return {
    p: 0,
    g: 1,
    h: (i: number) => 2 + i,
    pOut: 2 + histories,
    hOut: (i: number) => 3 + histories + i,
    pointers: n,
    n,
    scalar: (i: number) => n + 1 + i,
    scalarCount: 2 + scalars,
    end4: firstLocal,
    end: firstLocal + 1,
    splat: (i: number) => firstLocal + 2 + i,
    vtemp: (i: number) => firstLocal + 2 + 2 + scalars + i,
    ftemp: (i: number) => firstLocal + 2 + 2 + scalars + TEMPS + i,
  };
}
type Layout = ReturnType<typeof layout>;

function lanes(at: Layout): { scalar: Lane; vector: Lane } {
  const scalar: Lane = {
    load: (ptr) => [...get(ptr), 0x2a, 2, 0],
    store: (ptr, v) => [...get(ptr), ...v, 0x38, 2, 0],
    mul: (a, b) => [...a, ...b, 0x94],
    add: (a, b) => [...a, ...b, 0x92],
    sub: (a, b) => [...a, ...b, 0x93],
    div: (a, b) => [...a, ...b, 0x95],
    sqrt: (a) => [...a, 0x91],
    k: (i) => get(at.scalar(i)),
    keep: (slot, v) => [...v, ...set(at.ftemp(slot))],
    kept: (slot) => get(at.ftemp(slot)),
    width: 4,
  };
  const vector: Lane = {
    load: (ptr) => [...get(ptr), ...simd(0x00), 0, 0],
    store: (ptr, v) => [...get(ptr), ...v, ...simd(0x0b), 0, 0],
    mul: (a, b) => [...a, ...b, ...simd(0xe6)],
    add: (a, b) => [...a, ...b, ...simd(0xe4)],
    sub: (a, b) => [...a, ...b, ...simd(0xe5)],
    div: (a, b) => [...a, ...b, ...simd(0xe7)],
    sqrt: (a) => [...a, ...simd(0xe3)],
    k: (i) => get(at.splat(i)),
    keep: (slot, v) => [...v, ...set(at.vtemp(slot))],
    kept: (slot) => get(at.vtemp(slot)),
    width: 16,
  };
  return { scalar, vector };
}

/** What a rule's body sees: the regularized gradient (kept in slot 0), param, histories, its scalars. */
interface Env {
  L: Lane;
  g: Code;
  p: Code;
  h: (i: number) => Code;
  /** The rule's scalar `i` (after scale and decay). */
  k: (i: number) => Code;
  storeParam: (v: Code) => Code;
  storeHistory: (i: number, v: Code) => Code;
}

/** `g / (√s + delta) · rate` (AdaGrad, RMSProp; Adam with m for g). */
const scaledStep = (e: Env, g: Code, s: Code, delta: Code, rate: Code) => e.L.mul(e.L.div(g, e.L.add(e.L.sqrt(s), delta)), rate);

/**
 * Each rule: its history count, its scalars (what fused-update's caller passes, in order) and its body,
 * written operation for operation as the rule's tfjs kernels (src/solvers/<rule>.ts) compute it.
 */
export const RULES: Record<FusedRule, { histories: number; scalars: string[]; body: (e: Env) => Code }> = {
  SGD: {
    histories: 1,
    scalars: ['rate', 'momentum'],
    body: ({ L, g, p, h, k, storeParam, storeHistory }) => [
      ...L.keep(1, L.add(L.mul(g, k(0)), L.mul(h(0), k(1)))),
      ...storeHistory(0, L.kept(1)),
      ...storeParam(L.sub(p, L.kept(1))),
    ],
  },
  Nesterov: {
    histories: 1,
    scalars: ['rate', 'momentum', '1 + momentum'],
    body: ({ L, g, p, h, k, storeParam, storeHistory }) => [
      ...L.keep(1, L.add(L.mul(h(0), k(1)), L.mul(g, k(0)))),
      ...storeParam(L.sub(p, L.sub(L.mul(L.kept(1), k(2)), L.mul(h(0), k(1))))),
      ...storeHistory(0, L.kept(1)),
    ],
  },
  AdaGrad: {
    histories: 1,
    scalars: ['rate', 'delta'],
    body: (e) => [
      ...e.L.keep(1, e.L.add(e.h(0), e.L.mul(e.g, e.g))),
      ...e.storeHistory(0, e.L.kept(1)),
      ...e.storeParam(e.L.sub(e.p, scaledStep(e, e.g, e.L.kept(1), e.k(1), e.k(0)))),
    ],
  },
  RMSProp: {
    histories: 1,
    scalars: ['rate', 'delta', 'rms_decay', '1 - rms_decay'],
    body: (e) => [
      ...e.L.keep(1, e.L.add(e.L.mul(e.h(0), e.k(2)), e.L.mul(e.L.mul(e.g, e.g), e.k(3)))),
      ...e.storeHistory(0, e.L.kept(1)),
      ...e.storeParam(e.L.sub(e.p, scaledStep(e, e.g, e.L.kept(1), e.k(1), e.k(0)))),
    ],
  },
  AdaDelta: {
    histories: 2,
    scalars: ['rate', 'delta', 'momentum', '1 - momentum'],
    body: ({ L, g, p, h, k, storeParam, storeHistory }) => [
      ...L.keep(1, L.add(L.mul(h(0), k(2)), L.mul(L.mul(g, g), k(3)))),
      ...L.keep(2, L.mul(g, L.sqrt(L.div(L.add(h(1), k(1)), L.add(L.kept(1), k(1)))))),
      ...storeHistory(0, L.kept(1)),
      ...storeHistory(1, L.add(L.mul(h(1), k(2)), L.mul(L.mul(L.kept(2), L.kept(2)), k(3)))),
      ...storeParam(L.sub(p, L.mul(L.kept(2), k(0)))),
    ],
  },
  Adam: {
    histories: 2,
    scalars: ['rate · correction', 'delta', 'beta1', '1 - beta1', 'beta2', '1 - beta2'],
    body: (e) => [
      ...e.L.keep(1, e.L.add(e.L.mul(e.h(0), e.k(2)), e.L.mul(e.g, e.k(3)))),
      ...e.L.keep(2, e.L.add(e.L.mul(e.h(1), e.k(4)), e.L.mul(e.L.mul(e.g, e.g), e.k(5)))),
      ...e.storeHistory(0, e.L.kept(1)),
      ...e.storeHistory(1, e.L.kept(2)),
      ...e.storeParam(e.L.sub(e.p, scaledStep(e, e.L.kept(1), e.L.kept(2), e.k(1), e.k(0)))),
    ],
  },
};

/** while (p < end) { body; advance every pointer by one lane } */
function loop(at: Layout, L: Lane, end: number, body: Code): Code {
  const bump = Array.from({ length: at.pointers }, (_, ptr) => [...get(ptr), 0x41, ...sleb(L.width), 0x6a, ...set(ptr)]).flat();
  return [0x02, 0x40, 0x03, 0x40, ...get(at.p), ...get(end), 0x4f, 0x0d, 1, ...body, ...bump, 0x0c, 0, 0x0b, 0x0b];
}

function updateFunction(name: string, rule: FusedRule, decay: boolean): WasmFunction {
  const spec = RULES[rule];
  const at = layout(spec.histories, spec.scalars.length);
  const { scalar, vector } = lanes(at);
  const body = (L: Lane): Code => {
    // The regularized gradient as Solver.applyUpdate forms it: diff · scale (iter_size normalization; ×1 is
    // exact), plus decay · param when weight decay applies (added only then, as Caffe and the tfjs path do).
    const scaled = L.mul(L.load(at.g), L.k(0));
    const g = decay ? L.add(scaled, L.mul(L.load(at.p), L.k(1))) : scaled;
    const env: Env = {
      L,
      g: L.kept(0),
      p: L.load(at.p),
      h: (i) => L.load(at.h(i)),
      k: (i) => L.k(2 + i),
      storeParam: (v) => L.store(at.pOut, v),
      storeHistory: (i, v) => L.store(at.hOut(i), v),
    };
    return [...L.keep(0, g), ...spec.body(env)];
  };
  const splats = Array.from({ length: at.scalarCount }, (_, i) => [...get(at.scalar(i)), ...simd(0x13), ...set(at.splat(i))]).flat();
  const params = [...Array<number>(at.pointers + 1).fill(I32), ...Array<number>(at.scalarCount).fill(F32)];
  const code = [
    // end = p + 4n; end4 = p + 4·(n & ~3)
    ...get(at.p), ...get(at.n), 0x41, 2, 0x74, 0x6a, ...set(at.end),
    ...get(at.p), ...get(at.n), 0x41, ...sleb(-4), 0x71, 0x41, 2, 0x74, 0x6a, ...set(at.end4),
    ...splats,
    ...loop(at, vector, at.end4, body(vector)),
    ...loop(at, scalar, at.end, body(scalar)),
  ];
  return { name, params, locals: [[2, I32], [at.scalarCount + TEMPS, V128], [TEMPS, F32]], body: code };
}

const FUNCTIONS = (Object.keys(RULES) as FusedRule[]).flatMap((rule) => [
  { name: rule, rule, decay: false },
  { name: `${rule}Decay`, rule, decay: true },
]);

/** The module's bytes (`shared`: import a shared memory, as tfjs' threaded wasm build has). */
export function updateModuleBytes(shared = false): Uint8Array<ArrayBuffer> {
  return moduleBytes(FUNCTIONS.map(({ name, rule, decay }) => updateFunction(name, rule, decay)), shared);
}
