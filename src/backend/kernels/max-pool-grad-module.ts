// Caffe's MAX pooling backward as a hand-assembled wasm SIMD module over tfjs' heap: dx[first maximum of
// window o] += dy[o], the same search and the same order of additions as scatterToFirstMax (max-pool-first.ts),
// so results are bitwise equal. Four windows at once, one per v128 lane:
//  - four neighbouring output columns of one channel where their windows lie wholly inside the image's width
//    (kdnet pools N·C one-channel planes, C = 1: one load for column stride 1, two loads and a shuffle for
//    stride 2, else four scalar loads); the two or three such columns left before the edge as one group too;
//  - else four neighbouring channels of one window (C ≥ 4, one contiguous load), and one window at a time
//    (splatted into every lane) for the channels left over and for windows cut by the image's edge.
// Per lane: with the pooled maxima m, the first element equal to m (m > -inf), and where that fails the first
// strict maximum above -inf (also the search without maxima); -1 for none. Each window is scanned backwards
// keeping the last element accepted (a bitselect per element, no early exit). Windows are visited in output
// order (b, oy, ox, c), and lanes scatter in that order, so every dx element sums its diffs as the loop does.
import { I32, V128, addTo, get, ifElse, lanes32, moduleBytes, op, set, tee, v128, whileNot, type Code, type WasmFunction } from '../../util/wasm-asm.js';

/** How the module is specialized: `c1s1` / `c1s2` for one channel and column stride 1 / 2, `any` otherwise. */
export type PoolGradShape = 'c1s1' | 'c1s2' | 'any';

/** Exported function name for a shape and whether the pooled maxima are given. */
export const poolGradFunction = (shape: PoolGradShape, maxima: boolean) => `${shape}${maxima ? 'Maxima' : ''}`;

/**
 * Each export's arguments (i32): byte offsets of x, dx (zeroed), dy and the maxima (ignored without), then
 * the pooling geometry as tf.backend_util.Conv2DInfo names it (n, h, w, c, oh, ow, sh, sw, dh, dw, eh, ew,
 * top, left), the window's columns kw, and [oxLo, oxHi): the output columns whose windows lie wholly inside
 * the image's width (oxHi 0: none taken four at a time).
 */
export const POOL_GRAD_PARAMS = ['x', 'dx', 'dy', 'm', 'n', 'h', 'w', 'c', 'oh', 'ow', 'sh', 'sw', 'dh', 'dw', 'eh', 'ew', 'top', 'left', 'kw', 'oxLo', 'oxHi'] as const;
const I32_LOCALS = ['b', 'oy', 'ox', 'ch', 'hs', 'r0', 'rows', 'xRow', 'oRow', 'ws', 'c0', 'cols', 'p', 'oAt', 'rowPtr', 'colPtr', 'r', 'q', 't', 'delta', 'lsX', 'lsO', 'rowStep', 'colStep', 'k'] as const;
const V128_LOCALS = ['mV', 'dyV', 'valid', 'accept', 'idx', 'best', 'v', 'cur', 'offGather', 'offChannels', 'offNone', 'strict', 'colStepV', 'offGatherO', 'offPartial', 'offPartialO'] as const;
type Name = (typeof POOL_GRAD_PARAMS)[number] | (typeof I32_LOCALS)[number] | (typeof V128_LOCALS)[number];
const at = Object.fromEntries([...POOL_GRAD_PARAMS, ...I32_LOCALS, ...V128_LOCALS].map((name, i) => [name, i])) as Record<Name, number>;
const g = (name: Name) => get(at[name]);
const s = (name: Name) => set(at[name]);
const i32 = op.i32;

/** How one group of lanes reads x and the output-ordered arrays (dy, maxima), from byte addresses. */
interface Lanes {
  /** x's four lanes at the address in local `ptr`. */
  x(ptr: Name): Code;
  /** dy's or the maxima's four lanes at `base` + oAt. */
  o(base: Name): Code;
  /** The local holding each lane's byte offset from lane 0 in x. */
  offsets: Name;
  /** Lanes that are windows of their own (1: one window splatted). */
  count: number;
  /** A local holding how many of the lanes are windows, when fewer than `count` may be. */
  limit?: Name;
}

const f32At = (addr: Code): Code => [...addr, ...op.f32Load];
const gather = (addr: Code, stride: Name): Code => [
  ...f32At(addr), ...v128.f32Splat,
  ...[1, 2, 3].flatMap((j) => [...f32At([...addr, ...g(stride), ...i32(j), ...op.mul, ...op.add]), ...v128.f32Replace(j)]),
];
const oAddr = (base: Name): Code => [...g(base), ...g('oAt'), ...op.add];
/** Four lanes at addr plus each lane of the offsets in local `offsets`. */
const gatherBy = (addr: Code, offsets: Name): Code => [
  ...f32At(addr), ...v128.f32Splat,
  ...[1, 2, 3].flatMap((j) => [...f32At([...addr, ...g(offsets), ...v128.i32Extract(j), ...op.add]), ...v128.f32Replace(j)]),
];

const single: Lanes = { x: (ptr) => [...f32At(g(ptr)), ...v128.f32Splat], o: (base) => [...f32At(oAddr(base)), ...v128.f32Splat], offsets: 'offNone', count: 1 };
const channels: Lanes = { x: (ptr) => [...g(ptr), ...v128.load], o: (base) => [...oAddr(base), ...v128.load], offsets: 'offChannels', count: 4 };
/** Fewer than four output columns (k of them) before the edge: lanes from k on repeat lane 0. */
const partial: Lanes = { x: (ptr) => gatherBy(g(ptr), 'offPartial'), o: (base) => gatherBy(oAddr(base), 'offPartialO'), offsets: 'offPartial', count: 4, limit: 'k' };
const columnLanes = (shape: PoolGradShape): Lanes => ({
  x:
    shape === 'c1s1'
      ? (ptr) => [...g(ptr), ...v128.load]
      : shape === 'c1s2' // x[0..3] and x[3..6]: lanes 0, 2 of the first, 1, 3 of the second (nothing read past x[6])
        ? (ptr) => [...g(ptr), ...v128.load, ...g(ptr), ...i32(12), ...op.add, ...v128.load, ...v128.shuffle([0, 1, 2, 3, 8, 9, 10, 11, 20, 21, 22, 23, 28, 29, 30, 31])]
        : (ptr) => gather(g(ptr), 'lsX'),
  o: shape === 'any' ? (base) => gather(oAddr(base), 'lsO') : (base) => [...oAddr(base), ...v128.load],
  offsets: 'offGather',
  count: 4,
});

const NEG_INF = 0xff800000;

/**
 * Runs `body` on every element of the window at p (rows × cols), LAST first (v: the lanes' values, cur: their
 * addresses), so that a search keeping the last element it accepts keeps the first in scan order.
 */
function eachElement(L: Lanes, body: Code): Code {
  const element = [
    ...L.x('colPtr'), ...s('v'),
    ...body,
    ...addTo(at.colPtr, [...i32(0), ...g('colStep'), ...op.sub]),
    ...g('cur'), ...g('colStepV'), ...v128.i32Sub, ...s('cur'),
  ];
  const rowStart = [...g('rowPtr'), ...s('colPtr'), ...g('rowPtr'), ...v128.i32Splat, ...g(L.offsets), ...v128.i32Add, ...s('cur')];
  const columns = [...rowStart, ...g('cols'), ...s('q'), ...whileNot([...g('q'), ...op.eqz], [...element, ...addTo(at.q, i32(-1))])];
  return [
    // The last element: p + (rows − 1)·rowStep + (cols − 1)·colStep.
    ...g('p'), ...g('rows'), ...i32(-1), ...op.add, ...g('rowStep'), ...op.mul, ...op.add, ...g('cols'), ...i32(-1), ...op.add, ...g('colStep'), ...op.mul, ...op.add, ...s('rowPtr'),
    ...g('rows'), ...s('r'),
    ...whileNot([...g('r'), ...op.eqz], [...columns, ...addTo(at.rowPtr, [...i32(0), ...g('rowStep'), ...op.sub]), ...addTo(at.r, i32(-1))]),
  ];
}

/** strict := each lane's first maximum above -inf (-1: none): scanning backwards, the last v ≥ the best so far. */
const strictSearch = (L: Lanes): Code => [
  ...lanes32([NEG_INF, NEG_INF, NEG_INF, NEG_INF]), ...s('best'),
  ...lanes32([-1, -1, -1, -1]), ...s('strict'),
  ...eachElement(L, [
    ...g('v'), ...g('best'), ...v128.f32Ge, ...s('accept'),
    ...g('v'), ...g('best'), ...g('accept'), ...v128.bitselect, ...s('best'),
    ...g('cur'), ...g('strict'), ...g('accept'), ...v128.bitselect, ...s('strict'),
  ]),
  // -inf was accepted too (v ≥ -inf): nothing above it means none.
  ...g('strict'), ...lanes32([-1, -1, -1, -1]), ...g('best'), ...lanes32([NEG_INF, NEG_INF, NEG_INF, NEG_INF]), ...v128.f32Gt, ...v128.bitselect, ...s('strict'),
];

/** One group of windows: find each lane's element, then add its dy there, lane by lane. */
function windows(L: Lanes, maxima: boolean): Code {
  const search = maxima
    ? [
        ...L.o('m'), ...s('mV'),
        ...lanes32([-1, -1, -1, -1]), ...s('idx'),
        ...eachElement(L, [...g('cur'), ...g('idx'), ...g('v'), ...g('mV'), ...v128.f32Eq, ...v128.bitselect, ...s('idx')]),
        // Found where the maximum is usable (above -inf, not NaN) and matched; elsewhere the strict search.
        ...g('mV'), ...lanes32([NEG_INF, NEG_INF, NEG_INF, NEG_INF]), ...v128.f32Gt, ...g('idx'), ...lanes32([-1, -1, -1, -1]), ...v128.i32Ne, ...v128.and, ...s('valid'),
        ...ifElse([...g('valid'), ...v128.i32AllTrue, ...op.eqz], [
          ...strictSearch(L),
          ...g('idx'), ...g('strict'), ...g('valid'), ...v128.bitselect, ...s('idx'),
        ]),
      ]
    : [...strictSearch(L), ...g('strict'), ...s('idx')];
  const scatter = Array.from({ length: L.count }, (_, j) =>
    ifElse([...g('idx'), ...v128.i32Extract(j), ...tee(at.t), ...i32(-1), ...op.ne, ...(L.limit && j > 1 ? [...g(L.limit), ...i32(j), ...op.gtS, ...op.and] : [])], [
      ...g('t'), ...g('delta'), ...op.add, ...tee(at.t),
      ...g('t'), ...op.f32Load, ...g('dyV'), ...v128.f32Extract(j), ...op.f32Add, ...op.f32Store,
    ]),
  ).flat();
  return [...L.o('dy'), ...s('dyV'), ...search, ...scatter];
}

/** local := the first of start, start + step, … at or after 0 */
const firstIn = (start: Name, step: Name, into: Name): Code => [
  ...g(start),
  ...g(start), ...i32(0), ...g(start), ...op.sub, ...g(step), ...op.add, ...i32(-1), ...op.add, ...g(step), ...op.divS, ...g(step), ...op.mul, ...op.add,
  ...g(start), ...i32(0), ...op.geS, ...op.select, ...s(into),
];
/** local := how many of from, from + step, … lie below min(limit, end) */
const countBelow = (from: Name, step: Name, limit: Name, end: Code, into: Name): Code => [
  ...g(limit), ...end, ...g(limit), ...end, ...op.ltS, ...op.select, ...g(from), ...op.sub, ...s(into),
  ...g(into), ...g(step), ...op.add, ...i32(-1), ...op.add, ...g(step), ...op.divS, ...i32(0), ...g(into), ...i32(0), ...op.gtS, ...op.select, ...s(into),
];
const bytesOf = (elements: Code): Code => [...elements, ...i32(2), ...op.shl];

function gradFunction(shape: PoolGradShape, maxima: boolean): WasmFunction {
  const L = columnLanes(shape);
  const channel = (lanes: Lanes): Code => [
    ...g('xRow'), ...bytesOf([...g('c0'), ...g('c'), ...op.mul, ...g('ch'), ...op.add]), ...op.add, ...s('p'),
    ...bytesOf([...g('ox'), ...g('c'), ...op.mul, ...g('ch'), ...op.add]), ...g('oRow'), ...op.add, ...s('oAt'),
    ...windows(lanes, maxima),
  ];
  // Output columns ox.. inside the width, `count` of them (four, or the k < 4 left before oxHi).
  const columns = (lanes: Lanes, count: Code): Code => [
    ...g('kw'), ...s('cols'),
    ...g('ox'), ...g('sw'), ...op.mul, ...g('left'), ...op.sub, ...s('c0'),
    ...i32(0), ...s('ch'),
    ...whileNot([...g('ch'), ...g('c'), ...op.geS], [...channel(lanes), ...addTo(at.ch, i32(1))]),
    ...addTo(at.ox, count),
  ];
  const fewerColumns = [
    ...g('oxHi'), ...g('ox'), ...op.sub, ...s('k'),
    // Lanes from k on repeat lane 0's addresses (read, never written).
    ...g('k'), ...v128.i32Splat, ...lanes32([0, 1, 2, 3]), ...v128.i32GtS, ...s('v'),
    ...g('offGather'), ...g('v'), ...v128.and, ...s('offPartial'),
    ...g('offGatherO'), ...g('v'), ...v128.and, ...s('offPartialO'),
    ...columns(partial, g('k')),
  ];
  const oneColumn = [
    ...g('ox'), ...g('sw'), ...op.mul, ...g('left'), ...op.sub, ...s('ws'),
    ...firstIn('ws', 'dw', 'c0'),
    ...countBelow('c0', 'dw', 'w', [...g('ws'), ...g('ew'), ...op.add], 'cols'),
    ...i32(0), ...s('ch'),
    ...whileNot([...g('ch'), ...i32(4), ...op.add, ...g('c'), ...op.gtS], [...channel(channels), ...addTo(at.ch, i32(4))]),
    ...whileNot([...g('ch'), ...g('c'), ...op.geS], [...channel(single), ...addTo(at.ch, i32(1))]),
    ...addTo(at.ox, i32(1)),
  ];
  const row = [
    ...g('oy'), ...g('sh'), ...op.mul, ...g('top'), ...op.sub, ...s('hs'),
    ...firstIn('hs', 'dh', 'r0'),
    ...countBelow('r0', 'dh', 'h', [...g('hs'), ...g('eh'), ...op.add], 'rows'),
    ...g('x'), ...bytesOf([...g('b'), ...g('h'), ...op.mul, ...g('r0'), ...op.add, ...g('w'), ...op.mul, ...g('c'), ...op.mul]), ...op.add, ...s('xRow'),
    ...bytesOf([...g('b'), ...g('oh'), ...op.mul, ...g('oy'), ...op.add, ...g('ow'), ...op.mul, ...g('c'), ...op.mul]), ...s('oRow'),
    ...i32(0), ...s('ox'),
    ...whileNot([...g('ox'), ...g('ow'), ...op.geS], [
      ...ifElse([...g('ox'), ...g('oxLo'), ...op.geS, ...g('ox'), ...i32(4), ...op.add, ...g('oxHi'), ...op.leS, ...op.and], columns(L, i32(4)),
        ifElse([...g('ox'), ...g('oxLo'), ...op.geS, ...g('ox'), ...i32(2), ...op.add, ...g('oxHi'), ...op.leS, ...op.and], fewerColumns, oneColumn)),
    ]),
  ];
  const body = [
    ...g('dx'), ...g('x'), ...op.sub, ...s('delta'),
    ...bytesOf([...g('sw'), ...g('c'), ...op.mul]), ...s('lsX'),
    ...bytesOf(g('c')), ...s('lsO'),
    ...bytesOf([...g('dh'), ...g('w'), ...op.mul, ...g('c'), ...op.mul]), ...s('rowStep'),
    ...bytesOf([...g('dw'), ...g('c'), ...op.mul]), ...s('colStep'),
    // Lane offsets in x: sw·C floats apart (columns), 1 float apart (channels), none (one window).
    ...g('lsX'), ...v128.i32Splat, ...lanes32([0, 1, 2, 3]), ...v128.i32Mul, ...s('offGather'),
    ...g('lsO'), ...v128.i32Splat, ...lanes32([0, 1, 2, 3]), ...v128.i32Mul, ...s('offGatherO'),
    ...lanes32([0, 4, 8, 12]), ...s('offChannels'),
    ...g('colStep'), ...v128.i32Splat, ...s('colStepV'),
    ...i32(0), ...s('b'),
    ...whileNot([...g('b'), ...g('n'), ...op.geS], [
      ...i32(0), ...s('oy'),
      ...whileNot([...g('oy'), ...g('oh'), ...op.geS], [...row, ...addTo(at.oy, i32(1))]),
      ...addTo(at.b, i32(1)),
    ]),
  ];
  return {
    name: poolGradFunction(shape, maxima),
    params: POOL_GRAD_PARAMS.map(() => I32),
    locals: [[I32_LOCALS.length, I32], [V128_LOCALS.length, V128]],
    body,
  };
}

/** The module's bytes (`shared`: over tfjs' threaded build's shared memory). */
export function poolGradModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const shapes: PoolGradShape[] = ['c1s1', 'c1s2', 'any'];
  return moduleBytes(shapes.flatMap((shape) => [gradFunction(shape, false), gradFunction(shape, true)]), shared);
}

export type PoolGradModule = Record<string, (...args: number[]) => void>;
