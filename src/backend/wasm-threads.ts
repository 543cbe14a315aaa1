// tfjs-backend-wasm's multi-threaded build in Node: XNNPACK's convolutions and matmuls on a pthreadpool of
// worker threads, for the pure-wasm path (no native add-on). tfjs turns the build off in Node (tfjs issue 3830)
// for three reasons, each handled here for the duration of the backend's initialization only:
//  - its loader hands Emscripten the worker script and the module's own source as Blob URLs, which Node's
//    worker_threads cannot start nor `importScripts`: while it initializes, string Blobs it makes are written to
//    a private temporary folder and their "object URLs" are those files' paths (the worker script gets a one-line
//    preamble that points its own createObjectURL at the module file);
//  - the module's source, cut out of tfjs' Node bundle, refers to names the bundle defines around it (its
//    `require`s of fs/path/perf_hooks/os and three TypeScript helpers): the module file gets them as a preamble;
//  - the pool size is capped at logical cores / 2 (tfjs assumes two hardware threads per core; this machine's
//    2 vCPUs would give 1): os.cpus() reports enough cores that the cap is the requested count.
// Afterwards the pool's running workers are unref'd (they would keep the process alive), the unused ones that
// Emscripten pre-spawns are terminated, and the folder is removed (every worker has loaded its files by then).
// The bundle's layout is version-specific, so this runs only on the tfjs version it was verified with.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** The tfjs-backend-wasm release whose Node bundle this loader was checked against (package.json pins it). */
export const VERIFIED_TFJS_WASM = '4.22.0';
/** tfjs builds its pool with at most 8 threads (its PTHREAD_POOL_SIZE). */
export const MAX_WASM_THREADS = 8;

const MAIN_SCRIPT_MARK = 'var WasmBackendModuleThreadedSimd';
const WORKER_SCRIPT_MARK = 'WasmBackendModuleThreadedSimd(Module)';

// What the module's source needs from the bundle around it (tf-backend-wasm.node.js 4.22.0, its header).
const MODULE_PREAMBLE = [
  'var require$$0 = require("fs"), require$$1 = require("path"), require$$3 = require("perf_hooks"), require$$4 = require("os");',
  'var commonjsGlobal = globalThis;',
  'function __values(o) { return o[Symbol.iterator](); }',
  'function __read(o, n) { var out = []; for (var v of o) { if (n !== undefined && out.length >= n) break; out.push(v); } return out; }',
  'function __spreadArray(to, from) { return to.concat(Array.from(from)); }',
  '',
].join('\n');

interface PThreadPool {
  runningWorkers: { unref(): void }[];
  unusedWorkers: { terminate(): unknown }[];
}

export interface WasmThreading {
  threads: number;
  /** Where the count came from (e.g. 'default: one per core', '--threads'). */
  source: string;
}

let active: WasmThreading | undefined;
let fallbackReason: string | undefined;

/** The threaded build's pool when it runs (undefined: the single-threaded build). */
export function wasmThreading(): WasmThreading | undefined {
  return active;
}

/** Why more than one thread was asked for but the single-threaded build runs (undefined: it was not). */
export function threadedWasmFallback(): string | undefined {
  return fallbackReason;
}

/** Why the threaded build cannot be used with this tfjs-backend-wasm, or undefined when it can. */
export function threadedWasmUnavailable(wasmVersion: string): string | undefined {
  if (wasmVersion !== VERIFIED_TFJS_WASM) {
    return `tfjs-backend-wasm ${wasmVersion} is not the release kdnet's threaded loader was verified with (${VERIFIED_TFJS_WASM})`;
  }
  if (typeof SharedArrayBuffer !== 'function' || typeof Blob !== 'function') return 'this Node lacks SharedArrayBuffer or Blob';
  return undefined;
}

interface WasmModule {
  version_wasm: string;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/**
 * Runs `initialize` (which must initialize the wasm backend) with tfjs' threaded build and a pool of
 * `threading.threads`. True: the pool is live and `wasmThreading()` reports it. False: nothing was initialized
 * (this tfjs release is not the verified one, the build did not start, e.g. without a writable temporary
 * folder); `threadedWasmFallback()` says why, and the caller initializes the single-threaded build, which
 * needs none of this.
 */
export async function withThreadedWasm(wasmModule: WasmModule, threading: WasmThreading, initialize: () => Promise<boolean>): Promise<boolean> {
  let reason = threadedWasmUnavailable(wasmModule.version_wasm);
  try {
    if (!reason && (await startThreaded(wasmModule, threading, initialize))) return true;
    reason ??= `tfjs' threaded wasm build did not initialize`;
  } catch (e) {
    reason = `tfjs' threaded wasm build could not start (${String((e as Error)?.message ?? e).split('\n')[0]})`;
  }
  fallbackReason = reason;
  return false;
}

async function startThreaded(wasmModule: WasmModule, threading: WasmThreading, initialize: () => Promise<boolean>): Promise<boolean> {
  const threads = Math.min(threading.threads, MAX_WASM_THREADS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-wasm-'));
  const mainFile = path.join(dir, 'backend-module.js');
  const sources = new WeakMap<Blob, string>();
  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === 'string')) {
        const text = (parts as string[]).join('');
        sources.set(this, text);
        // The worker imports the module by itself; it must be on disk before any worker starts.
        if (text.startsWith(MAIN_SCRIPT_MARK)) fs.writeFileSync(mainFile, MODULE_PREAMBLE + text);
      }
    }
  }
  let files = 0;
  const createObjectURL = (blob: Blob): string => {
    const text = sources.get(blob);
    if (text === undefined) return originalCreateObjectURL(blob);
    if (text.startsWith(MAIN_SCRIPT_MARK)) return mainFile;
    const file = path.join(dir, `script-${files++}.js`);
    const preamble = text.includes(WORKER_SCRIPT_MARK)
      ? `URL.createObjectURL = function () { return ${JSON.stringify(mainFile)}; }; URL.revokeObjectURL = function () {};\n`
      : '';
    fs.writeFileSync(file, preamble + text);
    return file;
  };
  const cpus = originalCpus();
  const reported = Array.from({ length: 2 * threads }, (_, i) => cpus[i % Math.max(1, cpus.length)]!);

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasmModule.setThreadsCount(threads);
  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = createObjectURL;
  os.cpus = () => reported;
  let ok = false;
  try {
    ok = await initialize();
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
    fs.rmSync(dir, { recursive: true, force: true });
    if (!ok) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasmModule.setThreadsCount(-1);
    }
  }
  if (!ok) return false;
  const pool = (tf.backend() as unknown as { wasm?: { PThread?: PThreadPool } }).wasm?.PThread;
  if (pool) {
    for (const w of pool.runningWorkers) w.unref();
    for (const w of pool.unusedWorkers) void w.terminate();
    pool.unusedWorkers.length = 0;
  }
  active = { threads: wasmModule.getThreadsCount(), source: threading.source };
  return true;
}
