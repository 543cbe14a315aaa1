// Loads kdnet's optional native add-on (native/, built at install by scripts/build-native.mjs): OpenBLAS
// sgemm, oneDNN convolutions and pooling that run on the wasm backend's tensors in place. Absent, unloadable or
// turned off with KDNET_NATIVE=0, kdnet runs pure wasm; `nativeStatus()` says which and why.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeInfo {
  openblas: string;
  openblasCore: string;
  openblasThreads: number;
  onednn: string;
  onednnThreads: number;
}

/** The add-on's functions (native/src/addon.cc). Offsets are byte offsets into `heap`. */
export interface NativeAddon {
  info(): NativeInfo;
  setThreads(n: number): void;
  setGemmLibrary(lib: GemmLibrary): void;
  /** C = op(A)·op(B) (+ bias on every row when biasOffset is given), row-major, per batch entry. */
  gemm(heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, aOffset: number, aBatchStride: number, bOffset: number, bBatchStride: number, cOffset: number, biasOffset?: number): void;
  /** `params` as native/src/conv.cc lays them out; false when oneDNN does not take the geometry. */
  conv(params: Int32Array, heap: ArrayBuffer, in0Offset: number, in1Offset: number, outOffset: number, biasOffset?: number): boolean;
  convImpl(params: Int32Array): string;
  /** Whether oneDNN takes this convolution (the primitive is built and cached on the way). */
  convSupported(params: Int32Array): boolean;
  /** Max or average pooling, forward or gradient, `params` as native/src/pool.cc lays them out; false: not taken. */
  pool(params: Int32Array, heap: ArrayBuffer, in0Offset: number, in1Offset: number, outOffset: number): boolean;
  poolImpl(params: Int32Array): string;
}

export type GemmLibrary = 'onednn' | 'openblas';

export type NativeStatus = { loaded: true; addon: NativeAddon; file: string } | { loaded: false; reason: string };

const here = path.dirname(fileURLToPath(import.meta.url));
// src/backend/native/ and dist/backend/native/ are both three levels below the package root.
export const ADDON_FILE = path.resolve(here, '..', '..', '..', 'native', 'build', 'Release', 'kdnet_native.node');
export const ENABLE_HINT = 'apt-get install g++ make libopenblas-dev libdnnl-dev, then `node scripts/build-native.mjs`';

let status: NativeStatus | undefined;

function load(): NativeStatus {
  const env = process.env.KDNET_NATIVE?.trim().toLowerCase();
  if (env === '0' || env === 'off' || env === 'false') return { loaded: false, reason: 'turned off by KDNET_NATIVE=0' };
  if (!fs.existsSync(ADDON_FILE)) return { loaded: false, reason: `the native add-on is not built (${ENABLE_HINT})` };
  try {
    const addon = createRequire(import.meta.url)(ADDON_FILE) as NativeAddon;
    return { loaded: true, addon, file: ADDON_FILE };
  } catch (e) {
    const first = String((e as Error)?.message ?? e).split('\n')[0];
    return { loaded: false, reason: `the native add-on does not load (${first}); rebuild it with \`node scripts/build-native.mjs\`` };
  }
}

/** The add-on, loaded once (or why not). */
export function nativeStatus(): NativeStatus {
  return (status ??= load());
}

export function nativeAddon(): NativeAddon | undefined {
  const s = nativeStatus();
  return s.loaded ? s.addon : undefined;
}
