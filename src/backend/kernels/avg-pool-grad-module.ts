// Caffe's AVE pooling backward (PoolingLayer::Backward_cpu) as a hand-assembled wasm SIMD module over tfjs'
// heap, on NCHW blobs as N·C planes. Caffe adds d = top_diff / pool_size (f32) into every element of a window,
// window after window in (ph, pw) order. Here every bottom element is computed once, summing the same d's in
// the same order, four neighbouring columns at a time:
//  - each plane's d's are first laid out in a scratch row per ph, d(ph, pw) at column pw·stride_w (zeros
//    between and around, so that bottom column w finds window tap kx at w + pad_w − kx);
//  - bottom (y, x..x+3) starts at +0 and adds, for each window row ph covering y (ascending), the scratch row
//    at x + pad_w − kx for kx = kernel_w − 1 … 0 (that is ascending pw).
// The extra terms are +0, which leave a sum that started at +0 unchanged bitwise (it can never be −0), so the
// result equals Caffe's loop bit for bit. Columns left over after the last four go one at a time.
import { F32, I32, V128, addTo, uleb, get, ifElse, lanes32, moduleBytes, op, set, v128, whileNot, type Code, type WasmFunction } from '../../util/wasm-asm.js';

/**
 * The export's arguments (i32): byte offsets of dy, dx, the scratch rows (oh rows of `rowLength` floats,
 * zero but for what the module writes) and the divisor map (oh × ow pool_size as floats); then the planes
 * (N·C), the bottom's h, w, the top's oh, ow, kernel, stride and pad (height then width), and the scratch
 * row's length and left margin in floats.
 */
export const AVG_POOL_GRAD_PARAMS = ['dy', 'dx', 'rows', 'div', 'planes', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'padH', 'padW', 'rowLength', 'margin'] as const;
const I32_LOCALS = ['plane', 'ph', 'pw', 'y', 'x', 'lo', 'end', 'q', 'p', 'p0', 't', 'out', 'rowBytes', 'colBase', 'dAt'] as const;
const V128_LOCALS = ['acc'] as const;
const F32_LOCALS = ['sum'] as const;
type Name = (typeof AVG_POOL_GRAD_PARAMS)[number] | (typeof I32_LOCALS)[number] | (typeof V128_LOCALS)[number] | (typeof F32_LOCALS)[number];
const at = Object.fromEntries([...AVG_POOL_GRAD_PARAMS, ...I32_LOCALS, ...V128_LOCALS, ...F32_LOCALS].map((name, i) => [name, i])) as Record<Name, number>;
const g = (name: Name) => get(at[name]);
const s = (name: Name) => set(at[name]);
const i32 = op.i32;
const bytesOf = (elements: Code): Code => [...elements, ...i32(2), ...op.shl];

/** Kernel widths with an unrolled export of their own. */
const UNROLLED = [2, 3];
/** The export for a kernel width. */
export const avgPoolGradFunction = (kw?: number) => (kw !== undefined && UNROLLED.includes(kw) ? `avgPoolGrad${kw}` : 'avgPoolGrad');

/** The scratch layout for a geometry: row length and left margin (floats). */
export function scratchRows(w: number, ow: number, kw: number, sw: number, padW: number): { rowLength: number; margin: number } {
  // Reads reach from w + pad − (kw − 1) for w = 0 up to W − 1 + pad; d's sit at 0 … (ow − 1)·sw, and
  // stride 2 writes a zero one past the last.
  const margin = Math.max(0, kw - 1 - padW);
  return { rowLength: margin + Math.max(w + padW, ow * sw), margin };
}

/** scratch(ph, margin + pw·sw) := dy / pool_size for one plane (dy, div: this plane's), four windows at a time. */
const quotient = (width: 4 | 1): Code => {
  const [load, div] = width === 4 ? [v128.load, v128.f32Div] : [op.f32Load, op.f32Div];
  return [...g('dy'), ...bytesOf(g('q')), ...op.add, ...load, ...g('div'), ...bytesOf(g('q')), ...op.add, ...load, ...div];
};
// Stride 1: one store; stride 2: the four spread over eight columns (zeros between, one past the last: the
// row has room); wider strides: lane by lane.
const storeFour: Code = [
  ...quotient(4), ...s('acc'),
  ...ifElse([...g('sw'), ...i32(1), ...op.eq], [...g('dAt'), ...g('acc'), ...v128.store],
    ifElse([...g('sw'), ...i32(2), ...op.eq], [
      ...g('dAt'), ...g('acc'), ...lanes32([0, 0, 0, 0]), ...v128.shuffle32([0, 4, 1, 4]), ...v128.store,
      ...g('dAt'), ...i32(16), ...op.add, ...g('acc'), ...lanes32([0, 0, 0, 0]), ...v128.shuffle32([2, 4, 3, 4]), ...v128.store,
    ], [0, 1, 2, 3].flatMap((j) => [...g('dAt'), ...g('sw'), ...i32(4 * j), ...op.mul, ...op.add, ...g('acc'), ...v128.f32Extract(j), ...op.f32Store]))),
  ...addTo(at.dAt, bytesOf([...g('sw'), ...i32(4), ...op.mul])),
  ...addTo(at.q, i32(4)),
  ...addTo(at.pw, i32(4)),
];
const storeOne: Code = [
  ...g('dAt'), ...quotient(1), ...op.f32Store,
  ...addTo(at.dAt, bytesOf(g('sw'))),
  ...addTo(at.q, i32(1)),
  ...addTo(at.pw, i32(1)),
];
const layOutDiffs: Code = [
  ...i32(0), ...s('q'),
  ...i32(0), ...s('ph'),
  ...whileNot([...g('ph'), ...g('oh'), ...op.geS], [
    ...g('rows'), ...g('ph'), ...g('rowBytes'), ...op.mul, ...op.add, ...bytesOf(g('margin')), ...op.add, ...s('dAt'),
    ...i32(0), ...s('pw'),
    ...whileNot([...g('pw'), ...i32(4), ...op.add, ...g('ow'), ...op.gtS], storeFour),
    ...whileNot([...g('pw'), ...g('ow'), ...op.geS], storeOne),
    ...addTo(at.ph, i32(1)),
  ]),
];

/** Bottom columns x… of row y: the window rows lo ≤ ph < end, each's taps left to right, into `acc` (or `sum`). */
function columns(width: 4 | 1, kw: number | undefined): Code {
  const [load, add, accName, zero]: [Code, Code, Name, Code] =
    width === 4 ? [v128.load, v128.f32Add, 'acc', lanes32([0, 0, 0, 0])] : [op.f32Load, op.f32Add, 'sum', op.f32(0)];
  const loadAt = (offset: number): Code => [...load.slice(0, -1), ...uleb(offset)];
  const taps = kw
    ? Array.from({ length: kw }, (_, t) => [...g(accName), ...g('p0'), ...loadAt(4 * t), ...add, ...s(accName)]).flat()
    : [
        ...g('p0'), ...s('p'),
        ...g('kw'), ...s('t'),
        ...whileNot([...g('t'), ...op.eqz], [...g(accName), ...g('p'), ...load, ...add, ...s(accName), ...addTo(at.p, i32(4)), ...addTo(at.t, i32(-1))]),
      ];
  return [
    ...zero, ...s(accName),
    ...g('rows'), ...g('colBase'), ...op.add, ...bytesOf(g('x')), ...op.add, ...g('lo'), ...g('rowBytes'), ...op.mul, ...op.add, ...s('p0'),
    ...g('lo'), ...s('ph'),
    ...whileNot([...g('ph'), ...g('end'), ...op.geS], [...taps, ...addTo(at.p0, g('rowBytes')), ...addTo(at.ph, i32(1))]),
    ...g('out'), ...g(accName), ...(width === 4 ? v128.store : op.f32Store),
    ...addTo(at.out, i32(4 * width)),
    ...addTo(at.x, i32(width)),
  ];
}

const bottomRows = (kw: number | undefined): Code => [
  ...i32(0), ...s('y'),
  ...whileNot([...g('y'), ...g('h'), ...op.geS], [
    // Window rows covering y: lo = ⌈(y + pad − kh + 1) / sh⌉ (0 if below), end = min(oh, ⌊(y + pad) / sh⌋ + 1).
    ...g('y'), ...g('padH'), ...op.add, ...g('kh'), ...op.sub, ...i32(1), ...op.add, ...s('lo'),
    ...g('lo'), ...g('sh'), ...op.add, ...i32(-1), ...op.add, ...g('sh'), ...op.divU, ...i32(0), ...g('lo'), ...i32(0), ...op.gtS, ...op.select, ...s('lo'),
    ...g('y'), ...g('padH'), ...op.add, ...g('sh'), ...op.divU, ...i32(1), ...op.add, ...s('end'),
    ...g('end'), ...g('oh'), ...g('end'), ...g('oh'), ...op.ltS, ...op.select, ...s('end'),
    ...i32(0), ...s('x'),
    ...whileNot([...g('x'), ...i32(4), ...op.add, ...g('w'), ...op.gtS], columns(4, kw)),
    ...whileNot([...g('x'), ...g('w'), ...op.geS], columns(1, kw)),
    ...addTo(at.y, i32(1)),
  ]),
];

function gradFunction(kw?: number): WasmFunction {
  const body = [
    ...bytesOf(g('rowLength')), ...s('rowBytes'),
    ...g('margin'), ...g('padW'), ...op.add, ...g('kw'), ...op.sub, ...i32(1), ...op.add, ...i32(2), ...op.shl, ...s('colBase'),
    ...g('dx'), ...s('out'),
    ...i32(0), ...s('plane'),
    ...whileNot([...g('plane'), ...g('planes'), ...op.geS], [
      ...layOutDiffs,
      ...bottomRows(kw),
      ...addTo(at.dy, bytesOf([...g('oh'), ...g('ow'), ...op.mul])),
      ...addTo(at.plane, i32(1)),
    ]),
  ];
  return {
    name: avgPoolGradFunction(kw),
    params: AVG_POOL_GRAD_PARAMS.map(() => I32),
    locals: [[I32_LOCALS.length, I32], [V128_LOCALS.length, V128], [F32_LOCALS.length, F32]],
    body,
  };
}

/** The module's bytes (`shared`: over tfjs' threaded build's shared memory). */
export function avgPoolGradModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes([gradFunction(), ...UNROLLED.map(gradFunction)], shared);
}

export type AvgPoolGradModule = Record<string, (...args: number[]) => void>;
