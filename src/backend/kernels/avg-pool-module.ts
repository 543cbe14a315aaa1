// Caffe's AVE pooling forward (PoolingLayer::Forward_cpu) as a hand-assembled wasm SIMD module over tfjs'
// heap, on NCHW blobs as N·C planes: each window summed row by row, left to right, from +0, then divided by
// pool_size (f32), four neighbouring windows of a row at a time. Each plane is first copied into scratch
// rows with zeros left and right of the image, so that every window reads kernel_w columns per row: the
// extra terms are +0, which leave a sum that started at +0 unchanged bitwise, and the result equals Caffe's
// loop bit for bit. Window rows are clipped to the image. Lanes by column stride: one load (1), two loads and
// a shuffle (2), four scalar loads (other). Exports specialize on that and on kernel_w 2 and 3 (unrolled).
import { I32, V128, addTo, get, ifElse, lanes32, moduleBytes, op, set, uleb, v128, whileNot, type Code, type WasmFunction } from '../../util/wasm-asm.js';

/**
 * Each export's arguments (i32): byte offsets of x, y, the scratch rows (h rows of `rowLength` floats, zero
 * but for what the module writes) and the divisor map (oh × ow pool_size as floats, readable 3 floats past
 * its end); then the planes (N·C), the bottom's h, w, the top's oh, ow, kernel, stride and pad (height then
 * width), and the scratch row's length in floats.
 */
export const AVG_POOL_PARAMS = ['x', 'y', 'rows', 'div', 'planes', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'padH', 'padW', 'rowLength'] as const;
const I32_LOCALS = ['plane', 'ph', 'pw', 'r', 'r1', 'c', 'p', 'src', 'dst', 'rowBytes', 'laneBytes', 'out', 'q', 't'] as const;
const V128_LOCALS = ['acc'] as const;
type Name = (typeof AVG_POOL_PARAMS)[number] | (typeof I32_LOCALS)[number] | (typeof V128_LOCALS)[number];
const at = Object.fromEntries([...AVG_POOL_PARAMS, ...I32_LOCALS, ...V128_LOCALS].map((name, i) => [name, i])) as Record<Name, number>;
const g = (name: Name) => get(at[name]);
const s = (name: Name) => set(at[name]);
const i32 = op.i32;
const bytesOf = (elements: Code): Code => [...elements, ...i32(2), ...op.shl];
const withOffset = (load: Code, offset: number): Code => [...load.slice(0, -1), ...uleb(offset)];

export type StrideKind = 1 | 2 | 'any';
/** Kernel widths with unrolled exports. */
const UNROLLED = [2, 3];
/** The export for a column stride and kernel width. */
export const avgPoolFunction = (sw: number, kw: number) => `avgPool_s${sw === 1 || sw === 2 ? sw : 'any'}_k${UNROLLED.includes(kw) ? kw : 'any'}`;

/** The scratch row length (floats): the image after padW zeros, and room for the reads of the last four windows. */
export function poolScratchRow(w: number, ow: number, kw: number, sw: number, padW: number): number {
  return Math.max(padW + w, (Math.ceil(ow / 4) * 4 - 1) * sw + kw + 1);
}

/** Four windows' elements at byte address `addr` + offset (the first window's), by column stride. */
function lanesAt(stride: StrideKind, addr: Code, offset: number): Code {
  if (stride === 1) return [...addr, ...withOffset(v128.load, offset)];
  if (stride === 2) return [...addr, ...withOffset(v128.load, offset), ...addr, ...withOffset(v128.load, offset + 16), ...v128.shuffle32([0, 2, 4, 6])];
  return [
    ...addr, ...withOffset(op.f32Load, offset), ...v128.f32Splat,
    ...[1, 2, 3].flatMap((j) => [...addr, ...g('laneBytes'), ...i32(j), ...op.mul, ...op.add, ...withOffset(op.f32Load, offset), ...v128.f32Replace(j)]),
  ];
}

/** Copies plane rows into the scratch rows after padW zeros (four floats at a time, then one). */
const copyPlane: Code = [
  ...i32(0), ...s('r'),
  ...whileNot([...g('r'), ...g('h'), ...op.geS], [
    ...g('rows'), ...g('r'), ...g('rowBytes'), ...op.mul, ...op.add, ...bytesOf(g('padW')), ...op.add, ...s('dst'),
    ...i32(0), ...s('c'),
    ...whileNot([...g('c'), ...i32(4), ...op.add, ...g('w'), ...op.gtS], [
      ...g('dst'), ...g('src'), ...v128.load, ...v128.store,
      ...addTo(at.src, i32(16)), ...addTo(at.dst, i32(16)), ...addTo(at.c, i32(4)),
    ]),
    ...whileNot([...g('c'), ...g('w'), ...op.geS], [
      ...g('dst'), ...g('src'), ...op.f32Load, ...op.f32Store,
      ...addTo(at.src, i32(4)), ...addTo(at.dst, i32(4)), ...addTo(at.c, i32(1)),
    ]),
    ...addTo(at.r, i32(1)),
  ]),
];

/** acc := the sums of windows pw … pw + 3 of output row ph, over rows r … r1 − 1 (p: the first's top left). */
function windowSums(stride: StrideKind, kw: number | undefined): Code {
  const taps = kw
    ? Array.from({ length: kw }, (_, kx) => [...g('acc'), ...lanesAt(stride, g('p'), 4 * kx), ...v128.f32Add, ...s('acc')]).flat()
    : [
        ...g('p'), ...s('q'),
        ...g('kw'), ...s('t'),
        ...whileNot([...g('t'), ...op.eqz], [...g('acc'), ...lanesAt(stride, g('q'), 0), ...v128.f32Add, ...s('acc'), ...addTo(at.q, i32(4)), ...addTo(at.t, i32(-1))]),
      ];
  return [
    ...lanes32([0, 0, 0, 0]), ...s('acc'),
    ...g('rows'), ...g('r'), ...g('rowBytes'), ...op.mul, ...op.add, ...bytesOf([...g('pw'), ...g('sw'), ...op.mul]), ...op.add, ...s('p'),
    ...g('r'), ...s('c'),
    ...whileNot([...g('c'), ...g('r1'), ...op.geS], [...taps, ...addTo(at.p, g('rowBytes')), ...addTo(at.c, i32(1))]),
  ];
}

function poolFunction(stride: StrideKind, kw: number | undefined): WasmFunction {
  // Output (ph, pw): four at once where they fit, else lane 0 and each further lane while pw + j < ow.
  const lane = (j: number): Code => [...g('out'), ...i32(4 * j), ...op.add, ...g('acc'), ...v128.f32Extract(j), ...op.f32Store];
  const fewer = [1, 2, 3].reduceRight<Code>((rest, j) => ifElse([...g('pw'), ...i32(j), ...op.add, ...g('ow'), ...op.ltS], [...lane(j), ...rest]), []);
  const store = ifElse([...g('pw'), ...i32(4), ...op.add, ...g('ow'), ...op.leS], [...g('out'), ...g('acc'), ...v128.store], [...lane(0), ...fewer]);
  const outputRow = [
    // Window rows clipped to the image: [max(hs, 0), min(hs + kh, h)).
    ...g('ph'), ...g('sh'), ...op.mul, ...g('padH'), ...op.sub, ...s('r'),
    ...g('r'), ...g('kh'), ...op.add, ...s('r1'),
    ...g('r1'), ...g('h'), ...g('r1'), ...g('h'), ...op.ltS, ...op.select, ...s('r1'),
    ...g('r'), ...i32(0), ...g('r'), ...i32(0), ...op.gtS, ...op.select, ...s('r'),
    ...g('y'), ...bytesOf([...g('plane'), ...g('oh'), ...op.mul, ...g('ph'), ...op.add, ...g('ow'), ...op.mul]), ...op.add, ...s('out'),
    ...i32(0), ...s('pw'),
    ...whileNot([...g('pw'), ...g('ow'), ...op.geS], [
      ...windowSums(stride, kw),
      ...g('acc'), ...g('div'), ...bytesOf([...g('ph'), ...g('ow'), ...op.mul, ...g('pw'), ...op.add]), ...op.add, ...v128.load, ...v128.f32Div, ...s('acc'),
      ...store,
      ...addTo(at.out, i32(16)),
      ...addTo(at.pw, i32(4)),
    ]),
  ];
  const body = [
    ...bytesOf(g('rowLength')), ...s('rowBytes'),
    ...bytesOf(g('sw')), ...s('laneBytes'),
    ...g('x'), ...s('src'),
    ...i32(0), ...s('plane'),
    ...whileNot([...g('plane'), ...g('planes'), ...op.geS], [
      ...copyPlane,
      ...i32(0), ...s('ph'),
      ...whileNot([...g('ph'), ...g('oh'), ...op.geS], [...outputRow, ...addTo(at.ph, i32(1))]),
      ...addTo(at.plane, i32(1)),
    ]),
  ];
  return {
    name: `avgPool_s${stride}_k${kw ?? 'any'}`,
    params: AVG_POOL_PARAMS.map(() => I32),
    locals: [[I32_LOCALS.length, I32], [V128_LOCALS.length, V128]],
    body,
  };
}

/** The module's bytes (`shared`: over tfjs' threaded build's shared memory). */
export function avgPoolModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const strides: StrideKind[] = [1, 2, 'any'];
  return moduleBytes(strides.flatMap((stride) => [undefined, ...UNROLLED].map((kw) => poolFunction(stride, kw))), shared);
}

export type AvgPoolModule = Record<string, (...args: number[]) => void>;
