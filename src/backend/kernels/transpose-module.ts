// Transposes of 32-bit elements (float32, int32) as a hand-assembled wasm SIMD module over tfjs' heap, for
// the permutations a training step makes (transpose.ts reduces each to one of these):
//  - transpose2d (transpose2dTall for R > S): a batch of 2-D transposes, R × S → S × R, with any row and
//    batch strides: 4 × 4 blocks (four v128 row loads, eight i8x16.shuffles, four stores), scalar rows and
//    columns left over;
//  - swapBlocks: [A, B, E] → [B, A, E], rows of E elements copied a v128 at a time.
// Elements are moved as bits (i32/v128 loads and stores), never as floats.
import { I32, V128, addTo, get, op, set, v128, whileNot, moduleBytes, type Code, type WasmFunction } from '../../util/wasm-asm.js';

export interface TransposeModule {
  /** Byte offsets of in and out; then, in elements: T, R, S, in row stride, out row stride, in batch stride, out batch stride. */
  transpose2d(...args: number[]): void;
  /** The same, for R > S. */
  transpose2dTall(...args: number[]): void;
  /** Byte offsets of in and out; A, B, E. */
  swapBlocks(...args: number[]): void;
}

const i32 = op.i32;
const bytesOf = (elements: Code): Code => [...elements, ...i32(2), ...op.shl];

/**
 * `wide`: row blocks outside, columns inside (reads run along input rows); else (tall matrices, R > S)
 * column blocks outside, rows inside (writes run along output rows). The inner loop runs along the longer
 * side, so that neither side's four-row accesses cycle through many rows a power-of-two stride apart.
 */
function transpose2d(name: string, wide: boolean): WasmFunction {
  const [pin, pout, T, R, S, inRS, outRS, inBS, outBS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [t, r, s, bin, bout, src, dst, inRow, outRow] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [a0, a1, a2, a3, t0, t1, t2, t3] = [18, 19, 20, 21, 22, 23, 24, 25];
  const g = get;
  const at = (base: number, stride: number, k: number): Code => [...g(base), ...g(stride), ...i32(k), ...op.mul, ...op.add];
  const copy = (from: Code, to: Code): Code => [...to, ...from, ...op.i32Load, ...op.i32Store];
  const times4 = (local: number): Code => [...g(local), ...i32(2), ...op.shl];
  // In and out advance along a row of input (one column: 4 bytes; four: 16) or along a row of output.
  const inStep = (n: 1 | 4): Code => (wide ? i32(4 * n) : n === 1 ? g(inRow) : times4(inRow));
  const outStep = (n: 1 | 4): Code => (wide ? (n === 1 ? g(outRow) : times4(outRow)) : i32(4 * n));
  const block = [
    ...[a0, a1, a2, a3].flatMap((a, k) => [...at(src, inRow, k), ...v128.load, ...set(a)]),
    ...g(a0), ...g(a1), ...v128.shuffle32([0, 4, 1, 5]), ...set(t0),
    ...g(a0), ...g(a1), ...v128.shuffle32([2, 6, 3, 7]), ...set(t1),
    ...g(a2), ...g(a3), ...v128.shuffle32([0, 4, 1, 5]), ...set(t2),
    ...g(a2), ...g(a3), ...v128.shuffle32([2, 6, 3, 7]), ...set(t3),
    ...at(dst, outRow, 0), ...g(t0), ...g(t2), ...v128.shuffle32([0, 1, 4, 5]), ...v128.store,
    ...at(dst, outRow, 1), ...g(t0), ...g(t2), ...v128.shuffle32([2, 3, 6, 7]), ...v128.store,
    ...at(dst, outRow, 2), ...g(t1), ...g(t3), ...v128.shuffle32([0, 1, 4, 5]), ...v128.store,
    ...at(dst, outRow, 3), ...g(t1), ...g(t3), ...v128.shuffle32([2, 3, 6, 7]), ...v128.store,
    ...addTo(src, inStep(4)), ...addTo(dst, outStep(4)),
  ];
  // The outer loop runs over `outer` (r when wide, else s) four at a time, then one at a time; the inner
  // over the other (`inner`, limit `innerEnd`).
  const [outer, outerEnd, inner, innerEnd] = wide ? [r, R, s, S] : [s, S, r, R];
  // Element (r, s) = (outer or inner): in at bin + (r·inRS + s)·4, out at bout + (s·outRS + r)·4.
  const start = [
    ...g(bin), ...(wide ? [...g(r), ...g(inRow), ...op.mul] : times4(s)), ...op.add, ...set(src),
    ...g(bout), ...(wide ? times4(r) : [...g(s), ...g(outRow), ...op.mul]), ...op.add, ...set(dst),
    ...i32(0), ...set(inner),
  ];
  // Four lines along the inner side's leftover: element k of the four at src + k·inRow (wide) or dst + k·outRow.
  const leftoverOfFour = [0, 1, 2, 3].flatMap((k) =>
    wide ? copy(at(src, inRow, k), [...g(dst), ...i32(4 * k), ...op.add]) : copy([...g(src), ...i32(4 * k), ...op.add], at(dst, outRow, k)),
  );
  const fourLines = [
    ...start,
    ...whileNot([...g(inner), ...i32(4), ...op.add, ...g(innerEnd), ...op.gtS], [...block, ...addTo(inner, i32(4))]),
    ...whileNot([...g(inner), ...g(innerEnd), ...op.geS], [...leftoverOfFour, ...addTo(src, inStep(1)), ...addTo(dst, outStep(1)), ...addTo(inner, i32(1))]),
    ...addTo(outer, i32(4)),
  ];
  const oneLine = [
    ...start,
    ...whileNot([...g(inner), ...g(innerEnd), ...op.geS], [...copy(g(src), g(dst)), ...addTo(src, inStep(1)), ...addTo(dst, outStep(1)), ...addTo(inner, i32(1))]),
    ...addTo(outer, i32(1)),
  ];
  const body = [
    ...bytesOf(g(inRS)), ...set(inRow),
    ...bytesOf(g(outRS)), ...set(outRow),
    ...i32(0), ...set(t),
    ...whileNot([...g(t), ...g(T), ...op.geS], [
      ...g(pin), ...bytesOf([...g(t), ...g(inBS), ...op.mul]), ...op.add, ...set(bin),
      ...g(pout), ...bytesOf([...g(t), ...g(outBS), ...op.mul]), ...op.add, ...set(bout),
      ...i32(0), ...set(outer),
      ...whileNot([...g(outer), ...i32(4), ...op.add, ...g(outerEnd), ...op.gtS], fourLines),
      ...whileNot([...g(outer), ...g(outerEnd), ...op.geS], oneLine),
      ...addTo(t, i32(1)),
    ]),
  ];
  return { name, params: Array(9).fill(I32), locals: [[9, I32], [8, V128]], body };
}

/** Rows visited in input order (reads sequential; writes A rows apart, rarely a power-of-two stride). */
function swapBlocks(): WasmFunction {
  const [pin, pout, A, B, E] = [0, 1, 2, 3, 4];
  const [a, b, k, src, dst, rowBytes, stride] = [5, 6, 7, 8, 9, 10, 11];
  const g = get;
  const body = [
    ...bytesOf(g(E)), ...set(rowBytes),
    ...g(A), ...g(rowBytes), ...op.mul, ...set(stride),
    ...g(pin), ...set(src),
    ...i32(0), ...set(a),
    ...whileNot([...g(a), ...g(A), ...op.geS], [
      ...g(pout), ...g(a), ...g(rowBytes), ...op.mul, ...op.add, ...set(dst),
      ...i32(0), ...set(b),
      ...whileNot([...g(b), ...g(B), ...op.geS], [
        ...i32(0), ...set(k),
        ...whileNot([...g(k), ...i32(16), ...op.add, ...g(rowBytes), ...op.gtS], [
          ...g(dst), ...g(k), ...op.add, ...g(src), ...g(k), ...op.add, ...v128.load, ...v128.store, ...addTo(k, i32(16)),
        ]),
        ...whileNot([...g(k), ...g(rowBytes), ...op.geS], [
          ...g(dst), ...g(k), ...op.add, ...g(src), ...g(k), ...op.add, ...op.i32Load, ...op.i32Store, ...addTo(k, i32(4)),
        ]),
        ...addTo(src, g(rowBytes)), ...addTo(dst, g(stride)), ...addTo(b, i32(1)),
      ]),
      ...addTo(a, i32(1)),
    ]),
  ];
  return { name: 'swapBlocks', params: Array(5).fill(I32), locals: [[7, I32]], body };
}

/** The module's bytes (`shared`: over tfjs' threaded build's shared memory). */
export function transposeModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes([transpose2d('transpose2d', true), transpose2d('transpose2dTall', false), swapBlocks()], shared);
}
