// The filter gradient of a convolution as a hand-assembled wasm SIMD module over tfjs' heap, for pure wasm,
// where XNNPACK has no such kernel and kdnet's stand-ins (a convolution with dy as the filter, or im2col and a
// matmul whose fresh operand XNNPACK repacks every call) run far below its forward speed.
//
// dW[kh, kw, c, o] = Σ_{n,y,x} xpad[n, y·sh + kh, x·sw + kw, c] · dy[n, y, x, o] (NHWC; x padded beforehand).
// For one kernel row kh, the taps (kw, c) a pixel sees are T = KW·C contiguous floats of xpad, and dW's
// rows (kh, kw, c) are HWIO's order: so dW is [KH·T, O], and each pixel adds the outer product of its T taps
// and its O diffs. No im2col: taps are read where they lie. A block of R taps × 4V outputs stays in R·V
// registers while the pixels of a few output rows stream by (their dy rows stay in cache across blocks).
//
// One call accumulates output rows [rowBegin, rowEnd) (row = n·OH + y) into one [KH·T, O] partial sum; the
// caller splits the rows into parts by the problem's size alone and adds the parts in a fixed order, so the
// result does not depend on how many threads ran them.
import { I32, V128, addTo, get, op, set, v128, whileNot, moduleBytes, type Code, type WasmFunction } from '../../util/wasm-asm.js';

/** Byte offsets of xpad, dy and the partial sum; then rowBegin, rowEnd, OH, OW, O, KH, T, sh, sw, C, HP, WP, rows a chunk. */
export const FILTER_GRAD_PARAMS = ['xp', 'dy', 'acc', 'rowBegin', 'rowEnd', 'oh', 'ow', 'o', 'kh', 't', 'sh', 'sw', 'c', 'hp', 'wp', 'chunk'] as const;
const I32_LOCALS = ['c0', 'c1', 'k', 't0', 'o0', 'row', 'n', 'xPtr', 'dPtr', 'px', 'accPtr', 'xStep', 'dStep', 'accRow'] as const;
type Name = (typeof FILTER_GRAD_PARAMS)[number] | (typeof I32_LOCALS)[number];

export interface FilterGradModule {
  filterGrad(...args: number[]): void;
  /** Byte offsets of the partial sums ([parts, len]) and out; parts, len (a multiple of 4): out = Σ parts in order. */
  sumParts(acc: number, out: number, parts: number, len: number): void;
}

/** Taps × vectors of outputs a register block holds (TAPS · VECTORS accumulators, VECTORS diffs, a splat). */
export const TAPS = 2;
export const VECTORS = 4;

function filterGrad(): WasmFunction {
  const names = [...FILTER_GRAD_PARAMS, ...I32_LOCALS];
  const at = Object.fromEntries(names.map((name, i) => [name, i])) as Record<Name, number>;
  const firstVector = names.length;
  const accumulators = TAPS * VECTORS;
  const accAt = (r: number, v: number) => firstVector + r * VECTORS + v;
  const diffAt = (v: number) => firstVector + accumulators + v;
  const splat = firstVector + accumulators + VECTORS;
  const g = (name: Name) => get(at[name]);
  const s = (name: Name) => set(at[name]);
  const i32 = op.i32;
  const bytes = (elements: Code): Code => [...elements, ...i32(2), ...op.shl];

  // A block of r taps × v vectors: load the partial sums, stream the chunk's pixels, store them back.
  const micro = (r: number, v: number): Code => {
    const accRowAddress = (k: number): Code => [...g('accPtr'), ...g('accRow'), ...i32(k), ...op.mul, ...op.add];
    const pixel = [
      ...Array.from({ length: v }, (_, j) => [...g('dPtr'), ...v128.loadAt(16 * j), ...set(diffAt(j))]).flat(),
      ...Array.from({ length: r }, (_, k) => [
        ...g('xPtr'), ...v128.load32SplatAt(4 * k), ...set(splat),
        ...Array.from({ length: v }, (_, j) => [...get(accAt(k, j)), ...get(splat), ...get(diffAt(j)), ...v128.f32Mul, ...v128.f32Add, ...set(accAt(k, j))]).flat(),
      ]).flat(),
      ...addTo(at.xPtr, g('xStep')),
      ...addTo(at.dPtr, g('dStep')),
      ...addTo(at.px, i32(-1)),
    ];
    const row = [
      // n = row / OH, y = row − n·OH; xPtr = xp + ((n·HP + y·sh + kh)·WP·C + t0)·4; dPtr = dy + (row·OW·O + o0)·4
      ...g('row'), ...g('oh'), ...op.divS, ...s('n'),
      ...g('xp'),
      ...bytes([
        ...g('n'), ...g('hp'), ...op.mul,
        ...g('row'), ...g('n'), ...g('oh'), ...op.mul, ...op.sub, ...g('sh'), ...op.mul, ...op.add,
        ...g('k'), ...op.add, ...g('wp'), ...op.mul, ...g('c'), ...op.mul, ...g('t0'), ...op.add,
      ]),
      ...op.add, ...s('xPtr'),
      ...g('dy'), ...bytes([...g('row'), ...g('ow'), ...op.mul, ...g('o'), ...op.mul, ...g('o0'), ...op.add]), ...op.add, ...s('dPtr'),
      ...g('ow'), ...s('px'),
      ...whileNot([...g('px'), ...op.eqz], pixel),
      ...addTo(at.row, i32(1)),
    ];
    return [
      // accPtr = acc + ((kh·T + t0)·O + o0)·4
      ...g('acc'), ...bytes([...g('k'), ...g('t'), ...op.mul, ...g('t0'), ...op.add, ...g('o'), ...op.mul, ...g('o0'), ...op.add]), ...op.add, ...s('accPtr'),
      ...Array.from({ length: r }, (_, k) => Array.from({ length: v }, (_, j) => [...accRowAddress(k), ...v128.loadAt(16 * j), ...set(accAt(k, j))]).flat()).flat(),
      ...g('c0'), ...s('row'),
      ...whileNot([...g('row'), ...g('c1'), ...op.geS], row),
      ...Array.from({ length: r }, (_, k) => Array.from({ length: v }, (_, j) => [...accRowAddress(k), ...get(accAt(k, j)), ...v128.storeAt(16 * j)]).flat()).flat(),
      ...addTo(at.o0, i32(4 * v)),
    ];
  };
  // All outputs for taps [t0, t0 + r): blocks of VECTORS vectors, then single vectors (O is a multiple of 4).
  const taps = (r: number): Code => [
    ...i32(0), ...s('o0'),
    ...whileNot([...g('o0'), ...i32(4 * VECTORS), ...op.add, ...g('o'), ...op.gtS], micro(r, VECTORS)),
    ...whileNot([...g('o0'), ...g('o'), ...op.geS], micro(r, 1)),
    ...addTo(at.t0, i32(r)),
  ];
  const kernelRow = [
    ...i32(0), ...s('t0'),
    ...whileNot([...g('t0'), ...i32(TAPS), ...op.add, ...g('t'), ...op.gtS], taps(TAPS)),
    ...whileNot([...g('t0'), ...g('t'), ...op.geS], taps(1)),
    ...addTo(at.k, i32(1)),
  ];
  const chunk = [
    // c1 = min(c0 + chunk, rowEnd)
    ...g('c0'), ...g('chunk'), ...op.add, ...s('c1'),
    ...g('c1'), ...g('rowEnd'), ...g('c1'), ...g('rowEnd'), ...op.ltS, ...op.select, ...s('c1'),
    ...i32(0), ...s('k'),
    ...whileNot([...g('k'), ...g('kh'), ...op.geS], kernelRow),
    ...g('c1'), ...s('c0'),
  ];
  const body = [
    ...bytes([...g('sw'), ...g('c'), ...op.mul]), ...s('xStep'),
    ...bytes(g('o')), ...s('dStep'),
    ...bytes(g('o')), ...s('accRow'),
    ...g('rowBegin'), ...s('c0'),
    ...whileNot([...g('c0'), ...g('rowEnd'), ...op.geS], chunk),
  ];
  return { name: 'filterGrad', params: FILTER_GRAD_PARAMS.map(() => I32), locals: [[I32_LOCALS.length, I32], [accumulators + VECTORS + 1, V128]], body };
}

function sumParts(): WasmFunction {
  const [acc, out, parts, len, p, ptr, stride, end, sum] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const body = [
    ...get(len), ...op.i32(2), ...op.shl, ...set(stride),
    ...get(out), ...get(stride), ...op.add, ...set(end),
    ...whileNot([...get(out), ...get(end), ...op.geS], [
      ...get(acc), ...v128.load, ...set(sum),
      ...get(acc), ...set(ptr),
      ...op.i32(1), ...set(p),
      ...whileNot([...get(p), ...get(parts), ...op.geS], [
        ...addTo(ptr, get(stride)),
        ...get(sum), ...get(ptr), ...v128.load, ...v128.f32Add, ...set(sum),
        ...addTo(p, op.i32(1)),
      ]),
      ...get(out), ...get(sum), ...v128.store,
      ...addTo(acc, op.i32(16)), ...addTo(out, op.i32(16)),
    ]),
  ];
  return { name: 'sumParts', params: [I32, I32, I32, I32], locals: [[4, I32], [1, V128]], body };
}

/** The module's bytes (`shared`: over tfjs' threaded build's shared memory). */
export function filterGradModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes([filterGrad(), sumParts()], shared);
}
