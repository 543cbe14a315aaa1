// The wasm backend's tensors as the add-on sees them: byte offsets into the WebAssembly memory (tfjs keeps
// every tensor of the wasm backend there), and outputs allocated on that heap. The heap's ArrayBuffer is
// read after the outputs are allocated, since an allocation may grow the memory and replace the buffer.
import type * as tf from '@tensorflow/tfjs-core';

interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

const asWasm = (backend: tf.KernelBackend) => backend as unknown as WasmBackend;

/** Byte offset of a wasm tensor's data in the heap. */
export function offsetOf(backend: tf.KernelBackend, info: tf.TensorInfo): number {
  const d = asWasm(backend).dataIdMap.get(info.dataId);
  if (!d) throw new Error('kdnet native: tensor is not on the wasm backend');
  return d.memoryOffset;
}

/** The current heap buffer (read it after allocating outputs). */
export function heapBuffer(backend: tf.KernelBackend): ArrayBuffer {
  return asWasm(backend).wasm.HEAPU8.buffer as ArrayBuffer;
}

/** A new float32 output on the heap (uninitialized: the kernel writes every element). */
export function makeFloatOutput(backend: tf.KernelBackend, shape: number[]): tf.TensorInfo {
  return asWasm(backend).makeOutput(shape, 'float32');
}

/** Frees an output the native kernel turned down after all. */
export function disposeOutput(backend: tf.KernelBackend, info: tf.TensorInfo): void {
  asWasm(backend).disposeData(info.dataId, true);
}

/** True when `backend` is tfjs' wasm backend with the fields used here (they are internal to tfjs 4.x). */
export function isHeapBackend(backend: tf.KernelBackend): boolean {
  const b = backend as unknown as Partial<WasmBackend>;
  return !!b.wasm?.HEAPU8 && typeof b.dataIdMap?.get === 'function' && typeof b.makeOutput === 'function';
}
