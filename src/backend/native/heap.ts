// The wasm backend's tensors as the add-on sees them: byte offsets into the WebAssembly memory (tfjs keeps
// every tensor of the wasm backend there), and outputs allocated on that heap, through kdnet's one accessor of
// tfjs-wasm's internals (kernels/wasm-heap.ts). The heap's buffer is read after the outputs are allocated,
// since an allocation may grow the memory and replace the buffer.
import type * as tf from '@tensorflow/tfjs-core';
import { wasmHeapOf, type WasmHeap } from '../kernels/wasm-heap.js';

function heapOf(backend: tf.KernelBackend): WasmHeap {
  const heap = wasmHeapOf(backend);
  if (!heap) throw new Error('kdnet native: the backend is not tfjs-wasm');
  return heap;
}

/** Byte offset of a wasm tensor's data in the heap. */
export function offsetOf(backend: tf.KernelBackend, info: tf.TensorInfo): number {
  return heapOf(backend).offsetOf(info);
}

/** The current heap buffer (read it after allocating outputs). */
export function heapBuffer(backend: tf.KernelBackend): ArrayBuffer {
  return heapOf(backend).buffer() as ArrayBuffer;
}

/** A new float32 output on the heap (uninitialized: the kernel writes every element). */
export function makeFloatOutput(backend: tf.KernelBackend, shape: number[]): tf.TensorInfo {
  return heapOf(backend).makeOutput(shape, 'float32');
}

/** Frees an output the native kernel turned down after all. */
export function disposeOutput(backend: tf.KernelBackend, info: tf.TensorInfo): void {
  heapOf(backend).dispose(info);
}

/** True when `backend` is tfjs' wasm backend with the fields kdnet uses (they are internal to tfjs 4.x). */
export function isHeapBackend(backend: tf.KernelBackend): boolean {
  return wasmHeapOf(backend) !== undefined;
}
