// Swapping a kernel in tfjs' registry for our own implementation, keeping the one tfjs shipped so that tests
// can call it (or put it back) to show what the replacement fixes.
import * as tf from '@tensorflow/tfjs-core';
import { addWorkaround } from '../workarounds.js';

export type KernelImpl = (args: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: tf.KernelBackend }) => tf.TensorInfo | tf.TensorInfo[];

export interface KernelReplacement {
  readonly kernelName: string;
  readonly backendName: string;
  /** The kernel tfjs registered for this backend before ours (undefined when it had none). */
  readonly original: tf.KernelConfig | undefined;
  readonly installed: boolean;
  /** Registers our implementation (idempotent). */
  install(): void;
  /** Restores what tfjs had (removes ours if tfjs had nothing). For tests only. */
  uninstall(): void;
}

/** A replacement of `kernelName` on `backendName` by `impl`; nothing changes until `install()`. */
export function kernelReplacement(kernelName: string, backendName: string, impl: KernelImpl): KernelReplacement {
  let original: tf.KernelConfig | undefined;
  let captured = false;
  let installed = false;
  return {
    kernelName,
    backendName,
    get original() {
      return captured ? original : tf.getKernel(kernelName, backendName);
    },
    get installed() {
      return installed;
    },
    install() {
      if (installed) return;
      if (!captured) {
        original = tf.getKernel(kernelName, backendName);
        captured = true;
      }
      if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel({ kernelName, backendName, kernelFunc: impl as unknown as tf.KernelFunc });
      installed = true;
    },
    uninstall() {
      if (!installed) return;
      tf.unregisterKernel(kernelName, backendName);
      if (original) tf.registerKernel(original);
      installed = false;
    },
  };
}

/** A kernel input as a Tensor (ops hand kernels Tensors; a bare TensorInfo gets a tracked alias). */
export function asTensor<R extends tf.Rank = tf.Rank>(info: tf.TensorInfo): tf.Tensor<R> {
  if (info instanceof tf.Tensor) return info as tf.Tensor<R>;
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}

/** A tfjs conv/pool `pad` attribute. */
export type Pad = tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;

/** A conv `pad` attribute given for NCHW data, as the NHWC kernels expect it (explicit padding is per axis). */
export function nhwcPad(pad: Pad): Pad {
  if (!Array.isArray(pad)) return pad;
  return [pad[0]!, pad[2]!, pad[3]!, pad[1]!] as tf.backend_util.ExplicitPadding;
}

/** tfjs' explicit NHWC padding for the given spatial padding (batch and channels unpadded). */
export function spatialPadding(top: number, bottom: number, left: number, right: number): [[0, 0], [number, number], [number, number], [0, 0]] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Number pair from a tfjs `number | [number, number]` attribute. */
export function pair(v: number | number[] | undefined, dflt = 1): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? dflt, v[1] ?? v[0] ?? dflt];
}

/**
 * `x` (NHWC) seen through a window along H and W that starts `before` rows/columns early and ends `after` late:
 * positive amounts are returned as explicit conv padding, negative ones are cropped off here.
 */
export function windowed(x: tf.Tensor4D, before: [number, number], after: [number, number]): { x: tf.Tensor4D; pad: [[0, 0], [number, number], [number, number], [0, 0]] } {
  const [n, h, w, c] = x.shape;
  const cropTop = Math.max(0, -before[0]);
  const cropLeft = Math.max(0, -before[1]);
  const cropBottom = Math.max(0, -after[0]);
  const cropRight = Math.max(0, -after[1]);
  const y = cropTop || cropLeft || cropBottom || cropRight ? tf.slice(x, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]) : x;
  return {
    x: y,
    pad: spatialPadding(Math.max(0, before[0]), Math.max(0, after[0]), Math.max(0, before[1]), Math.max(0, after[1])),
  };
}

/** Inserts (s-1) zeros between the rows and between the columns of `x` (NHWC): length (L-1)*s+1 per axis. */
export function zeroInsert(x: tf.Tensor4D, strides: [number, number]): tf.Tensor4D {
  const [sh, sw] = strides;
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const full = tf.reshape(spread, [n, h * sh, w * sw, c]);
  return tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/**
 * A kdnet-specific kernel (one tfjs has no equivalent of) registered with `impl` on every backend kdnet runs,
 * each when that backend starts; returns the wasm registration (native kernels replace it and fall back to it).
 */
export function kernelOnEveryBackend(kernelName: string, impl: KernelImpl): KernelReplacement {
  const all = (['wasm', 'cpu', 'tensorflow'] as const).map((backend) => {
    const k = kernelReplacement(kernelName, backend, impl);
    addWorkaround(backend, () => k.install());
    return k;
  });
  return all[0]!;
}
