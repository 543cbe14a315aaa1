// tfjs-wasm's heap as kdnet's hand-assembled wasm modules (src/util/wasm-asm.ts) see it: the backend's memory
// (exported by its single-threaded build, a shared memory kept by its threaded one), tensors' byte offsets in
// it, and one instance of each module per backend, built over that memory.
import type * as tf from '@tensorflow/tfjs-core';
import { instantiateOver } from '../../util/wasm-asm.js';

interface WasmBackendInternals {
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export interface WasmHeap {
  memory: WebAssembly.Memory;
  /** A tensor's byte offset in the heap. */
  offsetOf(info: tf.TensorInfo): number;
  /** A new output tensor on the heap (may grow the memory: take views and offsets after allocating). */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The heap of a tfjs-wasm backend; undefined for other backends. */
export function wasmHeapOf(backend: tf.KernelBackend): WasmHeap | undefined {
  const b = backend as unknown as Partial<WasmBackendInternals>;
  const memory = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory) || typeof b.dataIdMap?.get !== 'function' || typeof b.makeOutput !== 'function') return undefined;
  const ids = b.dataIdMap;
  return {
    memory,
    offsetOf: (info) => ids.get(info.dataId)!.memoryOffset,
    makeOutput: (shape, dtype) => b.makeOutput!(shape, dtype),
  };
}

/** KDNET_WASM_KERNELS=0: the kernels these modules replaced run instead (MaxPoolGrad, Transpose; for comparison). */
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
