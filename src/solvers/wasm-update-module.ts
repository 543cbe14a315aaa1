// A small WebAssembly module, assembled here byte by byte, that runs the SGD and Nesterov parameter updates
// in one SIMD pass over tfjs' own wasm memory (imported): the six to eight elementwise tfjs kernels of the
// update (each a pass over memory into a fresh output) become one pass writing the new parameter and history.
// Every step rounds to float32 exactly as the separate tfjs kernels do (wasm has no fused multiply-add), so
// results are bitwise the same. Outputs are new buffers, never the inputs: tfjs-wasm caches XNNPACK operators
// with prepacked weights by tensor id, so a weight changed in place would be multiplied stale.

/**
 * The exported functions: byte offsets of param, diff and history and of the new param and history, the
 * element count, then the float32 scalars scale (1/iter_size), decay, rate, momentum and 1 + momentum
 * (Nesterov; given rounded as the tfjs path rounds it).
 */
export type UpdateFunction = (
  p: number, g: number, h: number, pOut: number, hOut: number, n: number,
  scale: number, decay: number, rate: number, momentum: number, momentum1: number,
) => void;

export interface UpdateModule {
  sgd: UpdateFunction;
  sgdDecay: UpdateFunction;
  nesterov: UpdateFunction;
  nesterovDecay: UpdateFunction;
}

type Code = number[];

const uleb = (v: number): Code => {
  const out: Code = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
const sleb = (v: number): Code => {
  const out: Code = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
};
const bytes = (s: string): Code => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const get = (i: number): Code => [0x20, ...uleb(i)];
const set = (i: number): Code => [0x21, ...uleb(i)];
const simd = (op: number): Code => [0xfd, ...uleb(op)];

// Parameters: 0 p, 1 g, 2 h, 3 p out, 4 h out, 5 n, 6 scale, 7 decay, 8 rate, 9 momentum, 10 1 + momentum.
// Locals: 11 end of the SIMD part, 12 end, 13–17 the five scalars splatted, 18 a v128 and 19 an f32 temporary.
const [P, G, H, P_OUT, H_OUT, N, SCALE, DECAY, RATE, MOM, MOM1] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const [END4, END] = [11, 12];
const SPLAT = 13;
const [VTEMP, FTEMP] = [18, 19];

/** The arithmetic of one element (scalar) or four (SIMD), so both loops share one formula. */
interface Lane {
  load(ptr: number): Code;
  store(ptr: number, value: Code): Code;
  mul(a: Code, b: Code): Code;
  add(a: Code, b: Code): Code;
  sub(a: Code, b: Code): Code;
  /** Scalar parameter `which` (SCALE…MOM1). */
  k(which: number): Code;
  /** The lane's temporary: set it, read it. */
  keep(value: Code): Code;
  kept(): Code;
  width: number;
}

const scalarLane: Lane = {
  load: (ptr) => [...get(ptr), 0x2a, 2, 0],
  store: (ptr, v) => [...get(ptr), ...v, 0x38, 2, 0],
  mul: (a, b) => [...a, ...b, 0x94],
  add: (a, b) => [...a, ...b, 0x92],
  sub: (a, b) => [...a, ...b, 0x93],
  k: (which) => get(which),
  keep: (v) => [...v, ...set(FTEMP)],
  kept: () => get(FTEMP),
  width: 4,
};

const vectorLane: Lane = {
  load: (ptr) => [...get(ptr), ...simd(0x00), 0, 0],
  store: (ptr, v) => [...get(ptr), ...v, ...simd(0x0b), 0, 0],
  mul: (a, b) => [...a, ...b, ...simd(0xe6)],
  add: (a, b) => [...a, ...b, ...simd(0xe4)],
  sub: (a, b) => [...a, ...b, ...simd(0xe5)],
  k: (which) => get(SPLAT + which - SCALE),
  keep: (v) => [...v, ...set(VTEMP)],
  kept: () => get(VTEMP),
  width: 16,
};

/**
 * The regularized gradient as Solver.applyUpdate forms it: diff · scale (iter_size normalization; ×1 is
 * exact), plus decay · param when weight decay applies (added only then, as Caffe and the tfjs path do).
 */
function gradient(L: Lane, decay: boolean): Code {
  const g = L.mul(L.load(G), L.k(SCALE));
  return decay ? L.add(g, L.mul(L.load(P), L.k(DECAY))) : g;
}

/** SGD (sgd.ts): h ← rate · g + momentum · h; p ← p − h. */
function sgdBody(L: Lane, decay: boolean): Code {
  const next = L.add(L.mul(gradient(L, decay), L.k(RATE)), L.mul(L.load(H), L.k(MOM)));
  return [...L.keep(next), ...L.store(H_OUT, L.kept()), ...L.store(P_OUT, L.sub(L.load(P), L.kept()))];
}

/** Nesterov (nesterov.ts): h' ← momentum · h + rate · g; p ← p − ((1 + momentum) · h' − momentum · h). */
function nesterovBody(L: Lane, decay: boolean): Code {
  const next = L.add(L.mul(L.load(H), L.k(MOM)), L.mul(gradient(L, decay), L.k(RATE)));
  const update = L.sub(L.mul(L.kept(), L.k(MOM1)), L.mul(L.load(H), L.k(MOM)));
  return [...L.keep(next), ...L.store(P_OUT, L.sub(L.load(P), update)), ...L.store(H_OUT, L.kept())];
}

/** while (p < end) { body; advance every pointer by one lane } */
function loop(L: Lane, end: number, body: Code): Code {
  const bump = [P, G, H, P_OUT, H_OUT].flatMap((ptr) => [...get(ptr), 0x41, ...sleb(L.width), 0x6a, ...set(ptr)]);
  return [0x02, 0x40, 0x03, 0x40, ...get(P), ...get(end), 0x4f, 0x0d, 1, ...body, ...bump, 0x0c, 0, 0x0b, 0x0b];
}

function functionBody(body: (L: Lane) => Code): Code {
  const locals = vec([[2, I32], [6, V128], [1, F32]]);
  const splats = [SCALE, DECAY, RATE, MOM, MOM1].flatMap((k, i) => [...get(k), ...simd(0x13), ...set(SPLAT + i)]);
  const code = [
    // end = p + 4n; end4 = p + 4·(n & ~3)
    ...get(P), ...get(N), 0x41, 2, 0x74, 0x6a, ...set(END),
    ...get(P), ...get(N), 0x41, ...sleb(-4), 0x71, 0x41, 2, 0x74, 0x6a, ...set(END4),
    ...splats,
    ...loop(vectorLane, END4, body(vectorLane)),
    ...loop(scalarLane, END, body(scalarLane)),
    0x0b,
  ];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

const EXPORTS: Array<[keyof UpdateModule, (L: Lane) => Code]> = [
  ['sgd', (L) => sgdBody(L, false)],
  ['sgdDecay', (L) => sgdBody(L, true)],
  ['nesterov', (L) => nesterovBody(L, false)],
  ['nesterovDecay', (L) => nesterovBody(L, true)],
];

/** The module's bytes. */
export function updateModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec([I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32].map((t) => [t])), 0];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([type])),
    ...section(2, vec([[...bytes('env'), ...bytes('memory'), 0x02, 0x00, 0]])),
    ...section(3, vec(EXPORTS.map(() => [0]))),
    ...section(7, vec(EXPORTS.map(([name], i) => [...bytes(name), 0x00, i]))),
    ...section(10, vec(EXPORTS.map(([, body]) => functionBody(body)))),
  ]);
}

/** Instantiates the module over `memory` (tfjs' wasm memory); undefined when this engine lacks wasm SIMD. */
export function instantiateUpdateModule(memory: WebAssembly.Memory): UpdateModule | undefined {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(updateModuleBytes()), { env: { memory } });
    return instance.exports as unknown as UpdateModule;
  } catch {
    return undefined;
  }
}
