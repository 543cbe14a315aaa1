// Picks the compute backend: tensorflow (tfjs-node-gpu, then tfjs-node) > wasm > cpu. `--backend NAME` or
// KDNET_BACKEND override; one start-up line says which backend and why, and on wasm a second one which
// kernel set (native add-on or pure wasm) runs.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { registerWorkarounds } from './workarounds.js';
import './kernels/index.js';
import { activateNativeKernels, nativeStatus } from './native/index.js';
import { threadSetting } from './native/kernel-set.js';
import { withThreadedWasm } from './wasm-threads.js';
import { hdf5Ready } from '../data/hdf5-file.js';

const require = createRequire(import.meta.url);

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: BackendName;
  reason: string;
}

let current: BackendChoice | undefined;

async function tryTensorflow(): Promise<string | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
    } catch {
      continue;
    }
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return pkg;
    } catch {
      /* installed but not loadable (no libtensorflow): fall through */
    }
  }
  return undefined;
}

// Without the native add-on, XNNPACK does the arithmetic: on more than one thread when asked (the default is
// one per core), through tfjs' threaded wasm build (wasm-threads.ts). With the add-on, the native kernels take
// the threads and wasm stays single-threaded.
async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const threading = threadSetting();
    if (!nativeStatus().loaded && threading.threads > 1 && (await withThreadedWasm(wasm, threading, () => tf.setBackend('wasm')))) return true;
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function useCpu(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-cpu');
  return tf.setBackend('cpu');
}

/** Initializes the backend once (later calls with the same request return the same choice). */
export async function initBackend(requested: string | undefined = process.env.KDNET_BACKEND, quiet = false): Promise<BackendChoice> {
  const want = requested?.toLowerCase();
  if (current && (!want || want === current.name)) return current;
  let choice: BackendChoice | undefined;
  if (want) {
    if (!['tensorflow', 'wasm', 'cpu'].includes(want)) {
      throw new KdnetError(`unknown backend '${requested}' (expected tensorflow, wasm or cpu)`);
    }
    const ok = want === 'tensorflow' ? await tryTensorflow() : want === 'wasm' ? await tryWasm() : await useCpu();
    if (!ok) {
      throw new KdnetError(
        want === 'tensorflow'
          ? 'backend tensorflow requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads here'
          : `backend ${want} requested but it failed to initialize`,
      );
    }
    choice = { name: want as BackendName, reason: requested === process.env.KDNET_BACKEND ? 'set by KDNET_BACKEND' : 'requested' };
  } else {
    const pkg = await tryTensorflow();
    if (pkg) choice = { name: 'tensorflow', reason: `${pkg} is installed` };
    else if (await tryWasm()) choice = { name: 'wasm', reason: 'tfjs-node is not installed; wasm is the fastest backend present' };
    else if (await useCpu()) choice = { name: 'cpu', reason: 'neither tfjs-node nor wasm could initialize' };
    else throw new Error('no tfjs backend could initialize');
  }
  await tf.ready();
  await hdf5Ready();
  registerWorkarounds(choice.name);
  // Native kernels (optional add-on) go over the wasm workarounds and fall back to them.
  const kernels = choice.name === 'wasm' ? activateNativeKernels() : undefined;
  current = choice;
  if (!quiet) {
    log.info(`Using backend ${choice.name} (${choice.reason})`);
    if (kernels) log.info(`Kernels: ${kernels.description}`);
  }
  return choice;
}

export function currentBackend(): BackendChoice | undefined {
  return current;
}
