// A convolution (NHWC, HWIO filter) as a hand-assembled wasm SIMD module over tfjs' heap, for pure wasm:
// out[n, y, x, o] = bias[o] + Σ_{kh} Σ_{t < KW·C} xpad[n, y·sh + kh, x·sw·C + t] · w[kh, t, o], x padded beforehand.
// For one kernel row, the taps (kw, c) a pixel sees are KW·C contiguous floats of xpad, and the filter's rows
// for them are contiguous too, so no im2col is needed. A block of PIXELS neighbouring output pixels × 4·VECTORS
// outputs stays in registers for the whole sum; each tap is one splat per pixel and VECTORS filter loads
// shared by the pixels. One call computes output rows [rowBegin, rowEnd) (row = n·OH + y) and outputs
// [oBegin, oEnd): calls write disjoint outputs and each output is summed in one order, whatever thread runs
// it. A matrix product A·B is the 1×1 case (A's rows the pixels, B the filter).
import { I32, V128, addTo, get, op, set, v128, whileNot, moduleBytes, type Code, type WasmFunction } from '../../util/wasm-asm.js';

/**
 * Byte offsets of xpad, the filter [KH, KW·C, O4], the bias [O4] and the output [N·OH·OW, O4]; then rowBegin,
 * rowEnd, oBegin, oEnd (the outputs computed: multiples of 4), OH, OW, O4, KH, T = KW·C, sh, sw, C, HP, WP.
 */
export const CONV_PARAMS = ['xp', 'w', 'bias', 'out', 'rowBegin', 'rowEnd', 'oBegin', 'oEnd', 'oh', 'ow', 'o', 'kh', 't', 'sh', 'sw', 'c', 'hp', 'wp'] as const;
const I32_LOCALS = ['row', 'n', 'xRow', 'outRow', 'px', 'o0', 'k', 'taps', 'wPtr', 'xStep', 'rowStep', 'wStep'] as const;
type Name = (typeof CONV_PARAMS)[number] | (typeof I32_LOCALS)[number];

export interface ConvModule {
  conv(...args: number[]): void;
}

/** Pixels × vectors of outputs a register block holds. */
const PIXELS = 4;
const VECTORS = 2;

function conv(): WasmFunction {
  const names = [...CONV_PARAMS, ...I32_LOCALS];
  const at = Object.fromEntries(names.map((name, i) => [name, i])) as Record<Name, number>;
  // Per pixel of a block: where its row of taps starts (x_i), and the tap it is at (a_i).
  const pixelX = Array.from({ length: PIXELS }, (_, i) => names.length + i);
  const pixelA = Array.from({ length: PIXELS }, (_, i) => names.length + PIXELS + i);
  const firstVector = names.length + 2 * PIXELS;
  const accAt = (r: number, v: number) => firstVector + r * VECTORS + v;
  const weightAt = (v: number) => firstVector + PIXELS * VECTORS + v;
  const splat = firstVector + PIXELS * VECTORS + VECTORS;
  const g = (name: Name) => get(at[name]);
  const s = (name: Name) => set(at[name]);
  const i32 = op.i32;
  const bytes = (elements: Code): Code => [...elements, ...i32(2), ...op.shl];

  // r pixels from px × v vectors from o0: the bias, every tap of every kernel row, then the output.
  const micro = (r: number, v: number): Code => {
    const tap = [
      ...Array.from({ length: v }, (_, j) => [...g('wPtr'), ...v128.loadAt(16 * j), ...set(weightAt(j))]).flat(),
      ...Array.from({ length: r }, (_, i) => [
        ...get(pixelA[i]!), ...v128.load32SplatAt(0), ...set(splat),
        ...Array.from({ length: v }, (_, j) => [...get(accAt(i, j)), ...get(splat), ...get(weightAt(j)), ...v128.f32Mul, ...v128.f32Add, ...set(accAt(i, j))]).flat(),
        ...addTo(pixelA[i]!, i32(4)),
      ]).flat(),
      ...addTo(at.wPtr, g('wStep')),
      ...addTo(at.taps, i32(-1)),
    ];
    const kernelRow = [
      ...Array.from({ length: r }, (_, i) => [...get(pixelX[i]!), ...set(pixelA[i]!), ...addTo(pixelX[i]!, g('rowStep'))]).flat(),
      ...g('t'), ...s('taps'),
      ...whileNot([...g('taps'), ...op.eqz], tap),
      ...addTo(at.k, i32(1)),
    ];
    return [
      ...Array.from({ length: r }, (_, i) => Array.from({ length: v }, (_, j) => [...g('bias'), ...bytes(g('o0')), ...op.add, ...v128.loadAt(16 * j), ...set(accAt(i, j))]).flat()).flat(),
      // x_i = xRow + (px + i)·sw·C·4; wPtr = w + o0·4
      ...Array.from({ length: r }, (_, i) => [...g('xRow'), ...g('px'), ...i32(i), ...op.add, ...g('xStep'), ...op.mul, ...op.add, ...set(pixelX[i]!)]).flat(),
      ...g('w'), ...bytes(g('o0')), ...op.add, ...s('wPtr'),
      ...i32(0), ...s('k'),
      ...whileNot([...g('k'), ...g('kh'), ...op.geS], kernelRow),
      ...Array.from({ length: r }, (_, i) =>
        Array.from({ length: v }, (_, j) => [
          ...g('outRow'), ...bytes([...g('px'), ...i32(i), ...op.add, ...g('o'), ...op.mul, ...g('o0'), ...op.add]), ...op.add,
          ...get(accAt(i, j)), ...v128.storeAt(16 * j),
        ]).flat(),
      ).flat(),
      ...addTo(at.o0, i32(4 * v)),
    ];
  };
  // r pixels from px: outputs [oBegin, oEnd), blocks of VECTORS vectors, then single vectors.
  const pixels = (r: number): Code => [
    ...g('oBegin'), ...s('o0'),
    ...whileNot([...g('o0'), ...i32(4 * VECTORS), ...op.add, ...g('oEnd'), ...op.gtS], micro(r, VECTORS)),
    ...whileNot([...g('o0'), ...g('oEnd'), ...op.geS], micro(r, 1)),
    ...addTo(at.px, i32(r)),
  ];
  const outputRow = [
    // n = row / OH, y = row − n·OH; xRow = xp + (n·HP + y·sh)·WP·C·4; outRow = out + row·OW·O4·4
    ...g('row'), ...g('oh'), ...op.divS, ...s('n'),
    ...g('xp'),
    ...bytes([...g('n'), ...g('hp'), ...op.mul, ...g('row'), ...g('n'), ...g('oh'), ...op.mul, ...op.sub, ...g('sh'), ...op.mul, ...op.add, ...g('wp'), ...op.mul, ...g('c'), ...op.mul]),
    ...op.add, ...s('xRow'),
    ...g('out'), ...bytes([...g('row'), ...g('ow'), ...op.mul, ...g('o'), ...op.mul]), ...op.add, ...s('outRow'),
    ...i32(0), ...s('px'),
    ...whileNot([...g('px'), ...i32(PIXELS), ...op.add, ...g('ow'), ...op.gtS], pixels(PIXELS)),
    ...whileNot([...g('px'), ...g('ow'), ...op.geS], pixels(1)),
    ...addTo(at.row, i32(1)),
  ];
  const body = [
    ...bytes([...g('sw'), ...g('c'), ...op.mul]), ...s('xStep'),
    ...bytes([...g('wp'), ...g('c'), ...op.mul]), ...s('rowStep'),
    ...bytes(g('o')), ...s('wStep'),
    ...g('rowBegin'), ...s('row'),
    ...whileNot([...g('row'), ...g('rowEnd'), ...op.geS], outputRow),
  ];
  return { name: 'conv', params: CONV_PARAMS.map(() => I32), locals: [[I32_LOCALS.length + 2 * PIXELS, I32], [PIXELS * VECTORS + VECTORS + 1, V128]], body };
}

/** The module's bytes (`shared`: over tfjs' threaded build's shared memory). */
export function convModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes([conv()], shared);
}
