// Solver updates as one tfjs kernel a parameter on the wasm backend (one pass, wasm-update-module.ts), used
// by Solver.applyUpdate when it can: the wasm backend and float32 tensors. It returns the new parameter value
// and histories as new tensors, like the rule's tfjs kernels, so nothing else changes for the caller.
import * as tf from '@tensorflow/tfjs-core';
import { RULES, updateModuleBytes, type FusedRule, type UpdateModule } from './wasm-update-module.js';
import { heapModule } from '../backend/kernels/wasm-heap.js';

const KERNEL = 'KdnetFusedUpdate';

export interface FusedUpdateArgs {
  rule: FusedRule;
  param: tf.Tensor;
  diff: tf.Tensor;
  /** One per history set of the rule. */
  histories: tf.Tensor[];
  /** Multiplier of the raw diff (1 / iter_size). */
  scale: number;
  /** weight_decay · decay_mult (L2); 0 for none. */
  decay: number;
  /** The rule's own numbers, in the order of RULES[rule].scalars. */
  scalars: number[];
}

interface Attrs {
  rule: FusedRule;
  scale: number;
  decay: number;
  scalars: number[];
}

/** The update module over this backend's heap; undefined when it is not tfjs-wasm or lacks wasm SIMD. */
const moduleFor = (backend: tf.KernelBackend) => heapModule<UpdateModule>(backend, 'fused-update', updateModuleBytes);

tf.registerKernel({
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as Attrs;
    const { module: m, heap } = moduleFor(backend as tf.KernelBackend)!;
    const { param, diff, ...rest } = inputs as Record<string, tf.TensorInfo>;
    const histories = Array.from({ length: RULES[a.rule].histories }, (_, i) => rest[`history${i}`]!);
    const outputs = [param, ...histories].map(() => heap.makeOutput(param!.shape, 'float32'));
    const at = heap.offsetOf;
    const n = param!.shape.reduce((x, y) => x * y, 1);
    // Numbers become float32 on the way into the wasm function, as they do in tf.scalar.
    m[a.decay ? (`${a.rule}Decay` as const) : a.rule](...[param!, diff!, ...histories, ...outputs].map(at), n, a.scale, a.decay, ...a.scalars);
    return outputs;
  },
});

/** Whether fused updates are turned off (KDNET_FUSED_UPDATE=0: the rule's tfjs kernels, for comparison). */
const disabled = () => /^(0|off|false)$/i.test(process.env.KDNET_FUSED_UPDATE?.trim() ?? '');

/**
 * The new parameter value and histories, or undefined when the fused kernel does not apply here (then the
 * caller runs the rule's tfjs kernels).
 */
export function fusedUpdate(a: FusedUpdateArgs): { value: tf.Tensor; history: tf.Tensor[] } | undefined {
  if (disabled() || tf.getBackend() !== 'wasm' || !moduleFor(tf.backend())) return undefined;
  const { param, diff, histories, rule, scale, decay, scalars } = a;
  if (histories.length !== RULES[rule].histories || scalars.length !== RULES[rule].scalars.length) throw new Error(`kdnet: ${rule} update given the wrong arguments`);
  const same = (t: tf.Tensor) => t.dtype === 'float32' && t.size === param.size;
  if (![param, diff, ...histories].every(same)) return undefined;
  const inputs: tf.NamedTensorMap = { param, diff };
  histories.forEach((h, i) => (inputs[`history${i}`] = h));
  const attrs: Attrs = { rule, scale, decay, scalars };
  const [value, ...next] = tf.engine().runKernel(KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { value: value!, history: next };
}
