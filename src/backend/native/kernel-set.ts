// The native kernel set: which kernels the add-on replaces on the wasm backend, how many threads its
// libraries use, and the one start-up line that says so. Each native kernel lives in its own file and adds
// itself with addNativeKernel(); each keeps the kernel it replaced (tfjs' or kdnet's wasm workaround) and
// hands it every case it does not cover.
import os from 'node:os';
import type { KernelReplacement } from '../kernels/replace.js';
import { KdnetError } from '../../errors.js';
import { nativeStatus, type GemmLibrary } from './addon.js';
import { threadedWasmFallback, wasmThreading } from '../wasm-threads.js';

const kernels: KernelReplacement[] = [];

export function addNativeKernel(k: KernelReplacement): void {
  kernels.push(k);
}

/** The native kernels known to kdnet (installed or not). */
export function nativeKernels(): readonly KernelReplacement[] {
  return kernels;
}

// Default: one thread per core. Measured on the idle 2-core development machine with `kdnet time` (bench/README.md):
// 2 threads took LeNet b64's forward + backward from 14–19 to 12 ms, the MLP's from 10.5–11.6 to 8.2–9.4 ms and
// CIFAR-10 quick's from 52 to 35 ms. (An earlier measurement said the opposite: `kdnet time` then read every
// blob back inside the timed span, and OpenMP's spinning worker slowed those copies.) When another busy process
// shares the cores, oneDNN's OpenMP barriers stall (up to 100× on small GEMMs): use --threads 1 there.
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}

let requestedThreads: number | undefined;

/** `--threads N`: applies to OpenBLAS and oneDNN (call before the backend is initialized, or again later). */
export function requestThreads(n: number | undefined): void {
  requestedThreads = n;
  if (n !== undefined && active) applyThreads();
}

/** The thread count asked for: --threads, else OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, else one per core. */
export function threadSetting(): { threads: number; source: string } {
  if (requestedThreads !== undefined) return { threads: requestedThreads, source: '--threads' };
  for (const name of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']) {
    const v = Number(process.env[name]);
    if (Number.isInteger(v) && v >= 1) return { threads: v, source: name };
  }
  return { threads: defaultThreads(), source: 'default: one per core' };
}

let active: { threads: number; source: string } | undefined;

/** KDNET_GEMM=openblas|onednn: the sgemm behind BatchMatMul (default oneDNN: measured faster here). */
function gemmLibrary(): GemmLibrary {
  const v = (process.env.KDNET_GEMM ?? '').trim().toLowerCase();
  if (v === '' || v === 'onednn') return 'onednn';
  if (v === 'openblas') return 'openblas';
  throw new KdnetError(`KDNET_GEMM must be onednn or openblas, got '${process.env.KDNET_GEMM}'`);
}
let gemm: GemmLibrary = 'onednn';

function applyThreads(): void {
  const s = nativeStatus();
  if (!s.loaded) return;
  active = threadSetting();
  s.addon.setThreads(active.threads);
}

export interface KernelSet {
  native: boolean;
  /** One line for the start-up log and `kdnet device_query`. */
  description: string;
  threads: number;
}

let installed = false;

/** Installs the native kernels on the wasm backend when the add-on loads (idempotent); says what is active. */
export function activateNativeKernels(): KernelSet {
  const s = nativeStatus();
  if (!s.loaded) return pureWasmKernelSet(s.reason);
  if (!installed) {
    gemm = gemmLibrary();
    s.addon.setGemmLibrary(gemm);
    applyThreads();
    for (const k of kernels) k.install();
    installed = true;
  }
  return kernelSet();
}

function pureWasmKernelSet(reason: string): KernelSet {
  const t = wasmThreading();
  const fallback = threadedWasmFallback();
  const pool = t && t.threads > 1 ? `; XNNPACK on ${t.threads} threads (tfjs' threaded wasm build), from ${t.source}` : fallback ? `; XNNPACK on one thread: ${fallback}` : '';
  return { native: false, description: `wasm only: ${reason}${pool}`, threads: t?.threads ?? 1 };
}

/** What is active now (the add-on loaded and its kernels installed, or why not). */
export function kernelSet(): KernelSet {
  const s = nativeStatus();
  if (!s.loaded) return pureWasmKernelSet(s.reason);
  if (!installed) return { native: false, description: 'wasm only: the native kernels are not installed (backend is not wasm)', threads: 1 };
  const i = s.addon.info();
  // tfjs' own kernels first, then kdnet's (Caffe-layout) ones, each group in registration order (which depends
  // on module load order, so it is not used as is).
  const own = (name: string) => /^(Kdnet|Caffe)/.test(name);
  const installedNames = kernels.filter((k) => k.installed).map((k) => k.kernelName);
  const names = [...installedNames.filter((n) => !own(n)), ...installedNames.filter(own)];
  const t = active!;
  const sgemm = gemm === 'openblas' ? `OpenBLAS ${i.openblas.split(' ')[1]} (${i.openblasCore}) sgemm` : `oneDNN ${i.onednn} sgemm`;
  return {
    native: true,
    description:
      `native: ${names.join(', ')} (convolutions and pooling on oneDNN ${i.onednn}, matmul on ${sgemm}; ` +
      `${t.threads} thread${t.threads === 1 ? '' : 's'}, from ${t.source}); wasm for the rest`,
    threads: t.threads,
  };
}

