// `kdnet forward`: run a net once on inputs from .npy files, optionally backward, and dump every blob
// (and diffs) as NCHW .npy files — the library side of the command.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadNetFile } from '../proto/load.js';
import { filterNet, Phase } from './net-state.js';
import { Net } from './net.js';
import { loadWeightsInto } from '../proto/weights.js';
import { readNpy, writeNpy } from '../util/npy.js';
import { KdnetError } from '../errors.js';
import type { SizeLimits } from './size-limits.js';
import type { Message } from '../proto/schema.js';

export interface ForwardOptions {
  model: string;
  weights?: string[];
  inputs: Record<string, string>;
  /** Diffs seeded into outputs before backward (pycaffe's net.blobs[o].diff[...] = ...), from .npy files. */
  topDiffs?: Record<string, string>;
  backward?: boolean;
  dump?: string;
  phase?: number;
  level?: number;
  stage?: string[];
  seed?: number;
  sizeLimits?: Partial<SizeLimits>;
  /** Folders searched for the JavaScript ports of Python layers; call loadJsLayersOfNetFile first for ES modules. */
  layersPath?: string[];
}

export interface ForwardResult {
  loss: number;
  lossTops: Array<{ blob: string; value: number; weight: number }>;
  dumped: string[];
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** The shapes Input layers declare for their tops (one shape for every top, or one per top). */
function declaredInputShapes(net: Message): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const layer of net.layer as Message[]) {
    if (layer.type !== 'Input') continue;
    const shapes = (layer.input_param?.shape ?? []) as Message[];
    (layer.top as string[]).forEach((top, i) => {
      const s = shapes.length === 1 ? shapes[0] : shapes[i];
      if (s) out.set(top, (s.dim as number[]).map(Number));
    });
  }
  return out;
}

function npyShape(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

function axes(n: number): string {
  return `${n} ${n === 1 ? 'axis' : 'axes'}`;
}

export function runForward(o: ForwardOptions): ForwardResult {
  const { message } = loadNetFile(o.model);
  const phase = o.phase ?? Phase.TEST;
  const netParam = filterNet(message, { phase, level: o.level ?? 0, stage: o.stage ?? [] });
  const net = new Net(netParam, {
    phase,
    seed: o.seed,
    baseDir: path.dirname(o.model),
    sizeLimits: o.sizeLimits,
    layersPath: o.layersPath,
  });
  try {
    if (o.weights?.length) loadWeightsInto(net, o.weights);
    const declared = declaredInputShapes(netParam);
    for (const [name, file] of Object.entries(o.inputs)) {
      const arr = readNpy(file, { blob: name });
      const want = declared.get(name);
      // Other sizes reshape the net, as pycaffe's blob.reshape does; another number of axes is a mistake.
      if (want && want.length !== arr.shape.length) {
        throw new KdnetError(`${file}: shape ${npyShape(arr.shape)} has ${axes(arr.shape.length)} but the input blob has ${axes(want.length)} ([${want.join(', ')}] in ${o.model})`, { blob: name });
      }
      net.setInput(name, tf.tensor(arr.data, arr.shape));
    }
    const missing = net.inputNames.filter((n) => !(n in o.inputs));
    if (missing.length) throw new KdnetError(`no --input given for input blob${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    const loss = net.forward();
    if (o.backward) {
      for (const [name, file] of Object.entries(o.topDiffs ?? {})) {
        const arr = readNpy(file, { blob: name });
        const blobShape = net.blob(name).shape;
        if (blobShape.join(',') !== arr.shape.join(',')) {
          throw new KdnetError(`${file}: shape ${npyShape(arr.shape)} is not the shape of the blob whose diff it seeds ([${blobShape.join(', ')}])`, { blob: name });
        }
        net.setTopDiff(name, tf.tensor(arr.data, arr.shape));
      }
      net.clearParamDiffs();
      net.backward();
    }
    const lossTops = net.lossTops().map((t) => ({ blob: t.blob, weight: t.weight, value: net.blob(t.blob).dataSync()[0]! }));
    const dumped: string[] = [];
    if (o.dump) {
      fs.mkdirSync(o.dump, { recursive: true });
      const write = (file: string, t: tf.Tensor) => {
        const p = path.join(o.dump!, file);
        writeNpy(p, Float32Array.from(t.dataSync()), t.shape);
        dumped.push(p);
      };
      for (const name of net.blobNames()) {
        write(`${safeName(name)}.npy`, net.blob(name));
        if (o.backward) {
          const d = net.blobDiff(name);
          if (d) write(`${safeName(name)}.diff.npy`, d);
        }
      }
      if (o.backward) {
        for (const layer of net.layers()) {
          layer.blobs.forEach((_, i) => {
            const d = net.paramDiff(layer.name, i);
            if (d) write(`${safeName(layer.name)}.param${i}.diff.npy`, d);
          });
        }
      }
    }
    return { loss, lossTops, dumped };
  } finally {
    net.dispose();
  }
}
