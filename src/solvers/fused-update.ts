// The SGD and Nesterov updates as one tfjs kernel on the wasm backend (one pass, wasm-update-module.ts),
// used by Solver.applyUpdate when it can: the wasm backend and float32 tensors. It returns the new parameter
// value and history as new tensors, like the rule's tfjs kernels, so nothing else changes for the caller.
import * as tf from '@tensorflow/tfjs-core';
import { instantiateUpdateModule, type UpdateModule } from './wasm-update-module.js';

const KERNEL = 'KdnetFusedUpdate';

interface WasmBackendInternals {
  wasm: { asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export interface FusedUpdateArgs {
  rule: 'SGD' | 'Nesterov';
  param: tf.Tensor;
  diff: tf.Tensor;
  history: tf.Tensor;
  /** Multiplier of the raw diff (1 / iter_size). */
  scale: number;
  /** weight_decay · decay_mult (L2); 0 for none. */
  decay: number;
  /** rate · lr_mult. */
  rate: number;
  momentum: number;
}

type Attrs = Omit<FusedUpdateArgs, 'param' | 'diff' | 'history'>;

const modules = new WeakMap<object, UpdateModule | null>();

/** The update module over this backend's memory; undefined when it is not tfjs-wasm or lacks wasm SIMD. */
function moduleFor(backend: tf.KernelBackend): UpdateModule | undefined {
  let m = modules.get(backend);
  if (m === undefined) {
    const b = backend as unknown as Partial<WasmBackendInternals>;
    const memory = b.wasm?.asm?.memory;
    const usable = memory instanceof WebAssembly.Memory && typeof b.dataIdMap?.get === 'function' && typeof b.makeOutput === 'function';
    m = (usable && instantiateUpdateModule(memory)) || null;
    modules.set(backend, m);
  }
  return m ?? undefined;
}

tf.registerKernel({
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as Attrs;
    const b = backend as unknown as WasmBackendInternals;
    const m = moduleFor(backend as tf.KernelBackend)!;
    const { param, diff, history } = inputs as Record<'param' | 'diff' | 'history', tf.TensorInfo>;
    const pOut = b.makeOutput(param.shape, 'float32');
    const hOut = b.makeOutput(param.shape, 'float32');
    const at = (t: tf.TensorInfo) => b.dataIdMap.get(t.dataId)!.memoryOffset;
    const f = Math.fround;
    const fn = a.rule === 'SGD' ? (a.decay ? m.sgdDecay : m.sgd) : a.decay ? m.nesterovDecay : m.nesterov;
    const n = param.shape.reduce((x, y) => x * y, 1);
    fn(at(param), at(diff), at(history), at(pOut), at(hOut), n, f(a.scale), f(a.decay), f(a.rate), f(a.momentum), f(1 + a.momentum));
    return [pOut, hOut];
  },
});

/** Whether fused updates are turned off (KDNET_FUSED_UPDATE=0: the rule's tfjs kernels, for comparison). */
const disabled = () => /^(0|off|false)$/i.test(process.env.KDNET_FUSED_UPDATE?.trim() ?? '');

/**
 * The new parameter value and history, or undefined when the fused kernel does not apply here (then the
 * caller runs the rule's tfjs kernels).
 */
export function fusedUpdate(a: FusedUpdateArgs): { value: tf.Tensor; history: tf.Tensor[] } | undefined {
  if (disabled() || tf.getBackend() !== 'wasm' || !moduleFor(tf.backend())) return undefined;
  const { param, diff, history, ...attrs } = a;
  const same = (t: tf.Tensor) => t.dtype === 'float32' && t.size === param.size;
  if (![param, diff, history].every(same)) return undefined;
  const [value, next] = tf.engine().runKernel(KERNEL, { param, diff, history }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { value: value!, history: [next!] };
}
