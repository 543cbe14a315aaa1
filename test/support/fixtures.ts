// Runs one golden case of ../shared/fixtures (real BVLC Caffe numbers) through kdnet: build the net from
// net.prototxt, load net.caffemodel, feed in.*.npy, compare out.*, then seed topdiff.* and compare diff.* and
// pdiff.* (see ../shared/fixtures/README.md for the protocol).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixturesRoot } from './shared.js';
import { loadNetFile } from '../../src/proto/load.js';
import { filterNet, Phase } from '../../src/net/net-state.js';
import { Net } from '../../src/net/net.js';
import { copyTrainedLayers, readCaffemodel } from '../../src/proto/weights.js';
import { readNpy } from '../../src/util/npy.js';
import { setLogSink } from '../../src/log.js';
import { layerFactory } from '../../src/layers/registry.js';
import type { Message } from '../../src/proto/schema.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export interface FixtureCase {
  name: string;
  dir: string;
  kind: string;
  what: string;
  status: string;
  error?: string;
  phase: string;
  force_backward: boolean;
  backward: boolean;
  files: string[];
  blobs: Record<string, { shape: number[]; role: string; loss_weight: number }>;
  tolerance?: { forward: Tolerance; backward: Tolerance };
}

export interface Comparison {
  what: string;
  ok: boolean;
  maxAbsDiff: number;
  detail?: string;
}

export function fixtureCases(kind?: string): FixtureCase[] {
  const manifest = path.join(fixturesRoot, 'MANIFEST.json');
  if (!fs.existsSync(manifest)) return [];
  const cases = JSON.parse(fs.readFileSync(manifest, 'utf8')).cases as FixtureCase[];
  return kind ? cases.filter((c) => c.kind === kind) : cases;
}

/** Layer types a case's net uses that kdnet has not registered yet. */
export function missingLayerTypes(c: FixtureCase, netFile = 'net.prototxt'): string[] {
  const { message } = loadNetFile(path.join(fixturesRoot, c.dir, netFile));
  return [...new Set((message.layer as Array<{ type: string }>).map((l) => l.type))].filter((t) => !layerFactory(t));
}

function compare(what: string, actual: Float32Array | number[], expected: Float32Array, shapeA: number[], shapeE: number[], tol: Tolerance): Comparison {
  if (shapeA.join(',') !== shapeE.join(',') && !(shapeE.length === 0 && actual.length === 1)) {
    return { what, ok: false, maxAbsDiff: Infinity, detail: `shape [${shapeA}] vs expected [${shapeE}]` };
  }
  let maxAbs = 0;
  let worst = '';
  let ok = true;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const d = Math.abs(a - e);
    if (!(d <= tol.atol + tol.rtol * Math.abs(e))) {
      if (ok || d > maxAbs) worst = `at ${i}: ${a} vs ${e}`;
      ok = false;
    }
    if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Infinity : d;
  }
  return { what, ok, maxAbsDiff: maxAbs, detail: ok ? undefined : worst };
}

const DEFAULT_TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };

export interface RunOptions {
  /**
   * The shape each Input layer declares, from the one in the case's prototxt: a net declared at another size
   * must be reshaped by the fixture's inputs to Caffe's numbers (Net::Reshape).
   */
  declaredShape?: (shape: number[]) => number[];
}

/** Runs a case and returns every comparison it makes (or throws what building/running threw). */
export function runFixtureCase(c: FixtureCase, opts: RunOptions = {}): Comparison[] {
  const dir = path.join(fixturesRoot, c.dir);
  const restore = setLogSink(() => {});
  const results: Comparison[] = [];
  let net: Net | undefined;
  try {
    const { message } = loadNetFile(path.join(dir, 'net.prototxt'));
    if (opts.declaredShape) {
      for (const lp of message.layer as Message[]) {
        if (lp.type !== 'Input') continue;
        for (const s of (lp.input_param?.shape ?? []) as Message[]) s.dim = opts.declaredShape((s.dim as number[]).map(Number));
      }
    }
    const phase = c.phase === 'TEST' ? Phase.TEST : Phase.TRAIN;
    net = new Net(filterNet(message, { phase, level: 0, stage: [] }), { phase, baseDir: dir });
    if (fs.existsSync(path.join(dir, 'net.caffemodel'))) copyTrainedLayers(net, readCaffemodel(path.join(dir, 'net.caffemodel')));
    for (const f of c.files.filter((x) => x.startsWith('in.'))) {
      const blob = f.slice(3, -4);
      if (!net.inputNames.includes(blob)) continue; // side files such as in.pixels_uint8.npy
      const arr = readNpy(path.join(dir, f));
      net.setInput(blob, tf.tensor(arr.data, arr.shape));
    }
    net.forward();
    const fwd = c.tolerance?.forward ?? DEFAULT_TOL;
    const bwd = c.tolerance?.backward ?? DEFAULT_TOL;
    for (const f of c.files) {
      if (f.startsWith('out.')) {
        const blob = f.slice(4, -4);
        const e = readNpy(path.join(dir, f));
        const t = net.blob(blob);
        results.push(compare(f, t.dataSync() as Float32Array, e.data, t.shape, e.shape, fwd));
      } else if (f.startsWith('param_after_forward.')) {
        const [, layer, idx] = f.slice(0, -4).split('.');
        const e = readNpy(path.join(dir, f));
        const t = net.layer(layer!).blobs[Number(idx)]!;
        results.push(compare(f, t.dataSync() as Float32Array, e.data, t.shape, e.shape, fwd));
      }
    }
    // Backward is compared whenever the case holds diffs (some net cases omit the `backward` flag).
    if (c.backward || c.files.some((f) => f.startsWith('diff.') || f.startsWith('pdiff.'))) {
      for (const f of c.files.filter((x) => x.startsWith('topdiff.'))) {
        const arr = readNpy(path.join(dir, f));
        net.setTopDiff(f.slice(8, -4), tf.tensor(arr.data, arr.shape));
      }
      net.clearParamDiffs();
      net.backward();
      for (const f of c.files) {
        if (f.startsWith('diff.')) {
          const blob = f.slice(5, -4);
          const e = readNpy(path.join(dir, f));
          const t = net.blobDiff(blob);
          const values = t ? (t.dataSync() as Float32Array) : new Float32Array(e.data.length);
          results.push(compare(f, values, e.data, t ? t.shape : e.shape, e.shape, bwd));
        } else if (f.startsWith('pdiff.')) {
          const [, layer, idx] = f.slice(0, -4).split('.');
          const e = readNpy(path.join(dir, f));
          const t = net.paramDiff(layer!, Number(idx));
          const values = t ? (t.dataSync() as Float32Array) : new Float32Array(e.data.length);
          results.push(compare(f, values, e.data, t ? t.shape : e.shape, e.shape, bwd));
        }
      }
    }
    return results;
  } finally {
    net?.dispose();
    setLogSink(restore);
  }
}
