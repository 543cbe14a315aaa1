// Threads for kdnet's own wasm kernels on tfjs' threaded build. That build's heap is a shared memory, so a
// Node worker can instantiate a kernel module over the same heap and run part of a call list while the main
// thread runs the rest. XNNPACK's pool is idle between tfjs kernels, so the cores are free.
//
// A job is a list of calls to one exported function; the main thread and the workers take calls off a shared
// board (an atomic counter) until none are left, and the main thread waits for the last one. Which thread runs
// a call never changes what it computes: callers split work by the problem's size alone. A worker that has
// not started yet, or lacks the module, just takes no calls; the main thread runs them. On the single-threaded
// build (a plain memory) every call runs on the main thread.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { wasmThreading } from '../wasm-threads.js';
import type { WasmHeap } from './wasm-heap.js';

/** Board slots (Int32): job generation, next call (tagged), calls done, a call failed, call count, argument count, module, function. */
const GEN = 0, NEXT = 1, DONE = 2, FAILED = 3, COUNT = 4, ARGC = 5, MODULE = 6, FUNCTION = 7, ARGS = 8;
export const MAX_CALLS = 64;
const MAX_ARGS = 32;
// NEXT holds the job's generation (low 15 bits) above the next call's index, and a job ends with its index
// at EXHAUSTED: a worker waking late, or reading the next job's fields half-written, can only take a call
// of the generation it saw, and only while that job is open (its fields stay put until every call is done).
const EXHAUSTED = 0xffff;
const tagOf = (gen: number) => (gen & 0x7fff) << 16;
/** The next call of the job tagged `tag` (with `count` calls), taken atomically; -1 when none is left. */
function takeCall(b: Int32Array, tag: number, count: number): number {
  for (;;) {
    const v = Atomics.load(b, NEXT);
    if ((v & ~0xffff) !== tag || (v & 0xffff) >= count) return -1;
    if (Atomics.compareExchange(b, NEXT, v, v + 1) === v) return v & 0xffff;
  }
}

// The worker: wait for a new generation, instantiate modules announced on its port, take calls.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, board, port } = workerData;
const b = new Int32Array(board);
const takeCall = ${takeCall.toString().replace(/\bNEXT\b/g, String(NEXT))};
const modules = [];
let seen = 0;
for (;;) {
  const gen = Atomics.load(b, ${GEN});
  if (gen === seen) { Atomics.wait(b, ${GEN}, gen, 1000); continue; }
  seen = gen;
  for (let m; (m = receiveMessageOnPort(port)); ) {
    const { index, module, names } = m.message;
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    modules[index] = names.map((n) => exports[n]);
  }
  const fn = modules[b[${MODULE}]] && modules[b[${MODULE}]][b[${FUNCTION}]];
  const argc = b[${ARGC}], count = b[${COUNT}], tag = (gen & 0x7fff) << 16;
  if (!fn) continue;
  for (let call; (call = takeCall(b, tag, count)) >= 0; ) {
    try { fn(...b.subarray(${ARGS} + call * argc, ${ARGS} + (call + 1) * argc)); } catch { Atomics.store(b, ${FAILED}, 1); }
    Atomics.add(b, ${DONE}, 1);
    Atomics.notify(b, ${DONE});
  }
}
`;

interface Pool {
  board: Int32Array;
  ports: MessagePort[];
  /** Each module announced to the workers: its index on the board and its exports' names, in the workers' order. */
  modules: Map<WebAssembly.Module, { index: number; names: string[] }>;
}

const pools = new WeakMap<WebAssembly.Memory, Pool | null>();

/** Kernel workers over `memory` (threads − 1 of them), or null on the single-threaded build. */
function poolFor(memory: WebAssembly.Memory): Pool | null {
  let pool = pools.get(memory);
  if (pool !== undefined) return pool;
  const workers = (wasmThreading()?.threads ?? 1) - 1;
  pool = null;
  if (workers > 0 && memory.buffer instanceof SharedArrayBuffer) {
    const board = new Int32Array(new SharedArrayBuffer(4 * (ARGS + MAX_CALLS * MAX_ARGS)));
    board[NEXT] = EXHAUSTED;
    const ports: MessagePort[] = [];
    for (let i = 0; i < workers; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, board: board.buffer, port: port2 }, transferList: [port2] });
      worker.unref();
      port1.unref();
      ports.push(port1);
    }
    pool = { board, ports, modules: new Map() };
  }
  pools.set(memory, pool);
  return pool;
}

let workerCalls = 0;
/** How many calls kernel workers have run in this process (for tests: the threads do work). */
export const kernelWorkerCalls = () => workerCalls;

/** A kernel function over the heap, and how the workers find it. */
export interface HeapFunction {
  module: WebAssembly.Module;
  name: string;
  /** The function as the main thread's instance exports it. */
  call(...args: number[]): void;
}

/**
 * Runs every call (each an argument list of i32s) of `fn`, spread over the kernel workers and the main
 * thread, and returns when all are done; returns how many calls the workers ran. Calls must write disjoint
 * memory.
 */
export function runCalls(heap: WasmHeap, fn: HeapFunction, calls: number[][]): number {
  const pool = calls.length > 1 ? poolFor(heap.memory) : null;
  const argc = calls[0]?.length ?? 0;
  if (!pool || calls.length > MAX_CALLS || argc > MAX_ARGS) {
    for (const args of calls) fn.call(...args);
    return 0;
  }
  const b = pool.board;
  let announced = pool.modules.get(fn.module);
  if (!announced) {
    announced = { index: pool.modules.size, names: WebAssembly.Module.exports(fn.module).map((e) => e.name) };
    pool.modules.set(fn.module, announced);
    for (const port of pool.ports) port.postMessage({ index: announced.index, module: fn.module, names: announced.names });
  }
  const { index } = announced;
  const functionIndex = announced.names.indexOf(fn.name);
  calls.forEach((args, i) => b.set(args, ARGS + i * argc));
  b[MODULE] = index;
  b[FUNCTION] = functionIndex;
  b[ARGC] = argc;
  b[COUNT] = calls.length;
  b[FAILED] = 0;
  b[DONE] = 0;
  const gen = b[GEN]! + 1;
  const tag = tagOf(gen);
  Atomics.store(b, NEXT, tag);
  Atomics.store(b, GEN, gen);
  Atomics.notify(b, GEN);
  let failure: unknown;
  let ranHere = 0;
  for (let call; (call = takeCall(b, tag, calls.length)) >= 0; ranHere++) {
    try {
      fn.call(...calls[call]!);
    } catch (e) {
      failure ??= e;
    }
    Atomics.add(b, DONE, 1);
  }
  for (let done; (done = Atomics.load(b, DONE)) < calls.length; ) Atomics.wait(b, DONE, done, 50);
  Atomics.store(b, NEXT, tag | EXHAUSTED);
  if (failure !== undefined) throw failure;
  if (b[FAILED]) throw new Error(`kdnet's wasm kernel ${fn.name} failed on a kernel thread`);
  workerCalls += calls.length - ranHere;
  return calls.length - ranHere;
}
