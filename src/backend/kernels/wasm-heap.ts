// tfjs-wasm's heap as kdnet's kernels see it: the backend's memory (exported by its single-threaded build, a
// shared memory kept by its threaded one), tensors' byte offsets and views in it, outputs allocated on it, and
// one instance of each hand-assembled module (src/util/wasm-asm.ts) per backend, built over that memory.
import type * as tf from '@tensorflow/tfjs-core';
import { instantiateOver } from '../../util/wasm-asm.js';

// The only place kdnet reads tfjs-wasm's internals (tfjs 4.x; not public API). Everything else — the native
// add-on's kernels, the SIMD modules, the typed-array loops — goes through WasmHeap.
interface WasmBackendInternals {
  wasm: { HEAPU8?: Uint8Array; asm?: { memory?: unknown }; wasmMemory?: unknown };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export interface WasmHeap {
  memory: WebAssembly.Memory;
  /** A tensor's byte offset in the heap. */
  offsetOf(info: tf.TensorInfo): number;
  /** A new output tensor on the heap (may grow the memory: take views and offsets after allocating). */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** Frees heap data kdnet allocated and did not hand to tfjs (scratch, or an output turned down). */
  dispose(info: tf.TensorInfo): void;
  /** A tensor's values as a view of the heap (writable in place; take it after allocating). */
  view(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** The heap's current buffer (take it after allocating). */
  buffer(): ArrayBuffer | SharedArrayBuffer;
}

const heaps = new WeakMap<tf.KernelBackend, WasmHeap | null>();

/** The heap of a tfjs-wasm backend; undefined for other backends. */
export function wasmHeapOf(backend: tf.KernelBackend): WasmHeap | undefined {
  let heap = heaps.get(backend);
  if (heap === undefined) heaps.set(backend, (heap = heapOf(backend as unknown as Partial<WasmBackendInternals>) ?? null));
  return heap ?? undefined;
}

function heapOf(b: Partial<WasmBackendInternals>): WasmHeap | undefined {
  const memory = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
  const { dataIdMap: ids, wasm } = b;
  if (!(memory instanceof WebAssembly.Memory) || !wasm || typeof ids?.get !== 'function' || typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function' || typeof b.disposeData !== 'function') return undefined;
  return {
    memory,
    offsetOf: (info) => {
      const d = ids.get(info.dataId);
      if (!d) throw new Error('kdnet: tensor is not on the wasm backend');
      return d.memoryOffset;
    },
    makeOutput: (shape, dtype) => b.makeOutput!(shape, dtype),
    dispose: (info) => void b.disposeData!(info.dataId, true),
    view: (info) => b.typedArrayFromHeap!(info),
    // Emscripten's HEAPU8 follows memory growth; memory.buffer is the same buffer.
    buffer: () => (wasm.HEAPU8?.buffer ?? memory.buffer) as ArrayBuffer | SharedArrayBuffer,
  };
}

/**
 * KDNET_WASM_KERNELS=0: the kernels these modules replaced run instead (MaxPoolGrad, Transpose, Caffe AVE
 * pooling, the convolution, the filter gradient and the matrix product; for comparison).
 */
export const wasmKernelsDisabled = () => /^(0|off|false)$/i.test(process.env.KDNET_WASM_KERNELS?.trim() ?? '');

const instances = new WeakMap<object, Map<string, { exports: unknown; compiled: WebAssembly.Module } | null>>();

/**
 * The module `build` assembles, instantiated once per backend over its heap (`name` keys the cache), with the
 * heap and the compiled module (for kernel threads, heap-threads.ts); undefined when the backend is not
 * tfjs-wasm or the engine lacks wasm SIMD.
 */
export function heapModule<T>(backend: tf.KernelBackend, name: string, build: (shared: boolean) => Uint8Array<ArrayBuffer>): { module: T; heap: WasmHeap; compiled: WebAssembly.Module } | undefined {
  const heap = wasmHeapOf(backend);
  if (!heap) return undefined;
  let cache = instances.get(backend);
  if (!cache) instances.set(backend, (cache = new Map()));
  if (!cache.has(name)) cache.set(name, instantiateOver(heap.memory, build) ?? null);
  const found = cache.get(name);
  return found ? { module: found.exports as T, heap, compiled: found.compiled } : undefined;
}
