// Byte-level WebAssembly assembly for kdnet's small hand-built modules (the fused solver update, the wasm
// MaxPoolGrad, Transpose, Caffe AVE pooling and filter-gradient kernels): LEB128 numbers, vectors, sections,
// the opcodes those modules use, and a module of exported functions over an imported memory (tfjs' wasm heap).
// Code is a plain byte array; instructions are functions returning bytes so a kernel reads as its stack program.

export type Code = number[];

export const uleb = (v: number): Code => {
  const out: Code = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
export const sleb = (v: number): Code => {
  const out: Code = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
};
export const bytes = (s: string): Code => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
export const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export const get = (i: number): Code => [0x20, ...uleb(i)];
export const set = (i: number): Code => [0x21, ...uleb(i)];
export const tee = (i: number): Code => [0x22, ...uleb(i)];
/** A SIMD instruction (0xfd prefix) without immediates. */
export const simd = (op: number): Code => [0xfd, ...uleb(op)];

/** Scalar instructions (memory accesses: alignment hint 0, offset 0). */
export const op = {
  i32: (v: number): Code => [0x41, ...sleb(v | 0)],
  f32: (v: number): Code => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  divS: [0x6d],
  divU: [0x6e],
  and: [0x71],
  shl: [0x74],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  ltS: [0x48],
  gtS: [0x4a],
  leS: [0x4c],
  geS: [0x4e],
  ltU: [0x49],
  geU: [0x4f],
  select: [0x1b],
  i32Load: [0x28, 0, 0],
  i32Store: [0x36, 0, 0],
  f32Load: [0x2a, 0, 0],
  f32Store: [0x38, 0, 0],
  f32Add: [0x92],
  f32Div: [0x95],
  drop: [0x1a],
};

/** SIMD instructions kdnet's kernels use. */
export const v128 = {
  load: [...simd(0x00), 0, 0],
  store: [...simd(0x0b), 0, 0],
  /** load / store at the address plus a constant byte offset (the memarg's offset, no add instruction). */
  loadAt: (offset: number): Code => [...simd(0x00), 0, ...uleb(offset)],
  storeAt: (offset: number): Code => [...simd(0x0b), 0, ...uleb(offset)],
  /** One f32 at the address plus `offset` bytes, in every lane. */
  load32SplatAt: (offset: number): Code => [...simd(0x09), 0, ...uleb(offset)],
  const: (bytes16: number[]): Code => [...simd(0x0c), ...bytes16],
  /** Lanes of two vectors picked by 16 byte indices (0–15 the first, 16–31 the second). */
  shuffle: (lanes: number[]): Code => [...simd(0x0d), ...lanes],
  /** shuffle by 32-bit lanes (0–3 the first vector, 4–7 the second). */
  shuffle32: (lanes: number[]): Code => [...simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  i32Splat: simd(0x11),
  f32Splat: simd(0x13),
  i32Extract: (lane: number): Code => [...simd(0x1b), lane],
  f32Extract: (lane: number): Code => [...simd(0x1f), lane],
  f32Replace: (lane: number): Code => [...simd(0x20), lane],
  f32Eq: simd(0x41),
  f32Gt: simd(0x44),
  f32Ge: simd(0x46),
  i32Ne: simd(0x38),
  i32GtS: simd(0x3b),
  not: simd(0x4d),
  and: simd(0x4e),
  andNot: simd(0x4f),
  or: simd(0x50),
  /** (a, b, mask): a where mask bits are set, else b. */
  bitselect: simd(0x52),
  anyTrue: simd(0x53),
  i32AllTrue: simd(0xa3),
  i32Add: simd(0xae),
  i32Sub: simd(0xb1),
  i32Mul: simd(0xb5),
  f32Add: simd(0xe4),
  f32Sub: simd(0xe5),
  f32Mul: simd(0xe6),
  f32Div: simd(0xe7),
  f32Sqrt: simd(0xe3),
};

/** 32-bit lanes as a v128.const. */
export const lanes32 = (values: number[]): Code => v128.const(values.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]));

/** block { loop { if (exit) break; body; continue } }: `exit` leaves an i32 (nonzero ends the loop). */
export const whileNot = (exit: Code, body: Code): Code => [0x02, 0x40, 0x03, 0x40, ...exit, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
/** if (cond) { then } else { otherwise } */
export const ifElse = (cond: Code, then: Code, otherwise: Code = []): Code => [...cond, 0x04, 0x40, ...then, ...(otherwise.length ? [0x05, ...otherwise] : []), 0x0b];
/** local += amount (i32) */
export const addTo = (local: number, amount: Code): Code => [...get(local), ...amount, ...op.add, ...set(local)];

/** One exported function: its i32/f32 parameters, its locals by type, and its body (without the final end). */
export interface WasmFunction {
  name: string;
  params: number[];
  locals: Array<[count: number, type: number]>;
  body: Code;
}

// The imported memory's limits: none for tfjs' single-threaded build; its threaded build's memory is shared,
// and a shared import must say so and give a maximum (65536 pages, the 4 GiB tfjs declares).
const PLAIN_MEMORY = [0x00, 0];
const SHARED_MEMORY = [0x03, 0, ...uleb(65536)];

/** A module importing `env.memory` (shared or not) and exporting `functions` (no results). */
export function moduleBytes(functions: WasmFunction[], shared: boolean): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const bodies = functions.map((f) => {
    const fn = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, 0x0b];
    return [...uleb(fn.length), ...fn];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec([[...bytes('env'), ...bytes('memory'), 0x02, ...(shared ? SHARED_MEMORY : PLAIN_MEMORY)]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map(({ name }, i) => [...bytes(name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

/**
 * Instantiates the module `build(shared)` makes over `memory` (its exports and the compiled module, which
 * other threads can instantiate over a shared memory); undefined when this engine cannot (no wasm SIMD).
 * `shared` is whether the memory is a SharedArrayBuffer's (tfjs' threaded build).
 */
export function instantiateOver<T>(memory: WebAssembly.Memory, build: (shared: boolean) => Uint8Array<ArrayBuffer>): { exports: T; compiled: WebAssembly.Module } | undefined {
  try {
    const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
    const compiled = new WebAssembly.Module(build(shared));
    const instance = new WebAssembly.Instance(compiled, { env: { memory } });
    return { exports: instance.exports as unknown as T, compiled };
  } catch {
    return undefined;
  }
}
