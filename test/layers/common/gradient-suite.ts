// Finite-difference gradient checks of every common layer that has a backward, for one backend (each
// backend runs in its own test file so the global tfjs backend never switches mid-file).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradient, makeLayer, type GradientCheckOptions } from '../../support/gradient-check.js';
import { initBackend } from '../../../src/backend/select.js';
import { Phase } from '../../../src/net/net-state.js';
import { Rng } from '../../../src/util/rng.js';
import type { Layer } from '../../../src/layers/layer.js';
import path from 'node:path';
import { readNpy } from '../../../src/util/npy.js';
import { fixturesRoot, hasFixtures } from '../../support/shared.js';

interface Case {
  name: string;
  layer: string;
  phase?: number;
  opts: GradientCheckOptions;
  /** Runs after set-up (e.g. to give BatchNorm non-trivial running statistics). */
  prepare?: (layer: Layer) => void;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Values whose pairwise gaps across `k` blobs are at least 0.2 at every position, so MAX has no near-ties. */
function separated(k: number, shape: number[], seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const n = count(shape);
  const out = Array.from({ length: k }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const levels = Array.from({ length: k }, (_, j) => j * 0.4 - 0.6 + rng.uniform() * 0.2);
    for (let j = levels.length - 1; j > 0; j--) {
      const r = Math.floor(rng.uniform() * (j + 1));
      [levels[j], levels[r]] = [levels[r]!, levels[j]!];
    }
    levels.forEach((v, j) => (out[j]![i] = v));
  }
  return out;
}

function ints(values: number[]): Float32Array {
  return Float32Array.from(values);
}

const max3 = separated(3, [2, 3, 2, 2], 11);
const prod3 = separated(3, [2, 3, 4], 12).map((v) => v.map((x) => x + (x >= 0 ? 0.3 : -0.3)));

const CASES: Case[] = [
  {
    name: 'InnerProduct 4-D bottom, bias',
    layer: 'name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" min: -1 max: 1 } }',
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }] },
  },
  {
    name: 'InnerProduct transpose, no bias',
    layer: 'name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 3 transpose: true bias_term: false weight_filler { type: "gaussian" std: 0.5 } }',
    opts: { bottoms: [{ shape: [4, 5] }] },
  },
  {
    name: 'InnerProduct axis 2',
    layer: 'name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 3 axis: 2 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.3 } }',
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }] },
  },
  {
    name: 'Concat axis 1, three bottoms',
    layer: 'name: "c" type: "Concat" bottom: "a" bottom: "b" bottom: "c" top: "y"',
    opts: { bottoms: [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }, { shape: [2, 3, 3] }] },
  },
  {
    name: 'Concat legacy concat_dim 0',
    layer: 'name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y" concat_param { concat_dim: 0 }',
    opts: { bottoms: [{ shape: [1, 2, 3] }, { shape: [2, 2, 3] }] },
  },
  {
    name: 'Slice slice_point',
    layer: 'name: "s" type: "Slice" bottom: "x" top: "a" top: "b" top: "c" slice_param { axis: -1 slice_point: 1 slice_point: 4 }',
    opts: { bottoms: [{ shape: [2, 3, 6] }] },
  },
  {
    name: 'Slice equal parts, legacy slice_dim',
    layer: 'name: "s" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { slice_dim: 0 }',
    opts: { bottoms: [{ shape: [4, 3] }] },
  },
  {
    name: 'Split into three',
    layer: 'name: "s" type: "Split" bottom: "x" top: "a" top: "b" top: "c"',
    opts: { bottoms: [{ shape: [2, 3, 2] }] },
  },
  {
    name: 'Flatten axis 1 end_axis 2',
    layer: 'name: "f" type: "Flatten" bottom: "x" top: "y" flatten_param { axis: 1 end_axis: 2 }',
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }] },
  },
  {
    name: 'Reshape 0 / -1',
    layer: 'name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: 0 dim: -1 dim: 2 } }',
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }] },
  },
  {
    name: 'Eltwise SUM with coeff',
    layer: 'name: "e" type: "Eltwise" bottom: "a" bottom: "b" bottom: "c" top: "y" eltwise_param { operation: SUM coeff: 0.5 coeff: -2 coeff: 1 }',
    opts: { bottoms: [{ shape: [2, 3, 2] }, { shape: [2, 3, 2] }, { shape: [2, 3, 2] }] },
  },
  {
    name: 'Eltwise PROD (stable gradient)',
    layer: 'name: "e" type: "Eltwise" bottom: "a" bottom: "b" bottom: "c" top: "y" eltwise_param { operation: PROD }',
    opts: { bottoms: prod3.map((values) => ({ shape: [2, 3, 4], values })) },
  },
  {
    name: 'Eltwise PROD (top / bottom gradient)',
    layer: 'name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: PROD stable_prod_grad: false }',
    opts: { bottoms: prod3.slice(0, 2).map((values) => ({ shape: [2, 3, 4], values })) },
  },
  {
    name: 'Eltwise MAX',
    layer: 'name: "e" type: "Eltwise" bottom: "a" bottom: "b" bottom: "c" top: "y" eltwise_param { operation: MAX }',
    opts: { bottoms: max3.map((values) => ({ shape: [2, 3, 2, 2], values })) },
  },
  {
    name: 'Softmax axis 1 on 4-D',
    layer: 'name: "s" type: "Softmax" bottom: "x" top: "y"',
    opts: { bottoms: [{ shape: [2, 4, 2, 3] }] },
  },
  {
    name: 'Softmax axis -1',
    layer: 'name: "s" type: "Softmax" bottom: "x" top: "y" softmax_param { axis: -1 }',
    opts: { bottoms: [{ shape: [3, 5] }] },
  },
  {
    name: 'MVN (mean and variance)',
    layer: 'name: "m" type: "MVN" bottom: "x" top: "y"',
    opts: { bottoms: [{ shape: [2, 3, 3, 2] }], threshold: 2e-2 },
  },
  {
    name: 'MVN across channels',
    layer: 'name: "m" type: "MVN" bottom: "x" top: "y" mvn_param { across_channels: true }',
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }], threshold: 2e-2 },
  },
  {
    name: 'MVN mean only',
    layer: 'name: "m" type: "MVN" bottom: "x" top: "y" mvn_param { normalize_variance: false }',
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }] },
  },
  {
    name: 'BatchNorm batch statistics (TRAIN)',
    layer: 'name: "bn" type: "BatchNorm" bottom: "x" top: "y"',
    opts: { bottoms: [{ shape: [3, 2, 2, 2] }], threshold: 2e-2 },
  },
  {
    name: 'BatchNorm global statistics (TEST)',
    layer: 'name: "bn" type: "BatchNorm" bottom: "x" top: "y"',
    phase: Phase.TEST,
    opts: { bottoms: [{ shape: [2, 3, 2, 2] }] },
    prepare: (layer) => {
      layer.blobs[0]!.assign(tf.tensor([0.5, -1, 2]));
      layer.blobs[1]!.assign(tf.tensor([1.5, 0.6, 3]));
      layer.blobs[2]!.assign(tf.tensor([1.7]));
    },
  },
  {
    name: 'BatchReindex with repeats',
    layer: 'name: "r" type: "BatchReindex" bottom: "x" bottom: "i" top: "y"',
    opts: { bottoms: [{ shape: [3, 2, 2] }, { shape: [5], values: ints([2, 0, 2, 1, 2]), check: false }] },
  },
  {
    name: 'Embed (parameters only)',
    layer: 'name: "e" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 3 input_dim: 5 weight_filler { type: "gaussian" std: 1 } bias_filler { type: "uniform" min: -1 max: 1 } }',
    opts: { bottoms: [{ shape: [2, 3], values: ints([4, 0, 4, 2, 1, 4]), check: false }] },
  },
  {
    name: 'Filter',
    layer: 'name: "f" type: "Filter" bottom: "a" bottom: "b" bottom: "s" top: "ya" top: "yb"',
    opts: { bottoms: [{ shape: [4, 3] }, { shape: [4, 2, 2] }, { shape: [4, 1], values: ints([1, 0, 0.5, 0]), check: false }] },
  },
  {
    name: 'Tile axis 1',
    layer: 'name: "t" type: "Tile" bottom: "x" top: "y" tile_param { axis: 1 tiles: 3 }',
    opts: { bottoms: [{ shape: [2, 2, 3] }] },
  },
  {
    name: 'Tile 5-D, last axis',
    layer: 'name: "t" type: "Tile" bottom: "x" top: "y" tile_param { axis: -1 tiles: 2 }',
    opts: { bottoms: [{ shape: [2, 1, 2, 1, 3] }] },
  },
  {
    name: 'Reduction SUM axis 1 coeff 2',
    layer: 'name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: SUM axis: 1 coeff: 2 }',
    opts: { bottoms: [{ shape: [2, 3, 2] }] },
  },
  {
    name: 'Reduction ASUM',
    layer: 'name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: ASUM axis: 1 }',
    opts: { bottoms: [{ shape: [3, 4] }], kink: 0 },
  },
  {
    name: 'Reduction SUMSQ axis 0',
    layer: 'name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: SUMSQ coeff: -0.5 }',
    opts: { bottoms: [{ shape: [2, 3] }] },
  },
  {
    name: 'Reduction MEAN axis -1',
    layer: 'name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: MEAN axis: -1 }',
    opts: { bottoms: [{ shape: [2, 3, 4] }] },
  },
  {
    name: 'Parameter',
    layer: 'name: "p" type: "Parameter" top: "y" parameter_param { shape { dim: 2 dim: 3 } }',
    opts: { bottoms: [] },
    prepare: (layer) => layer.blobs[0]!.assign(tf.tensor([[1, -2, 3], [0.5, 0, -1]])),
  },
  {
    name: 'Silence',
    layer: 'name: "s" type: "Silence" bottom: "a" bottom: "b"',
    opts: { bottoms: [{ shape: [2, 3] }, { shape: [4] }] },
  },
];

export function commonGradientSuite(backend: 'cpu' | 'wasm'): void {
  describe(`common layers: gradient checks on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });
    for (const c of CASES) {
      it(c.name, () => {
        // makeLayer's `phase` parameter is inferred as the TRAIN literal; any phase works at run time.
        const layer = (makeLayer as (t: string, p: number) => Layer)(c.layer, c.phase ?? Phase.TRAIN);
        if (c.prepare) {
          layer.setup(c.opts.bottoms.map((b) => b.shape));
          c.prepare(layer);
        }
        const { checked, failures } = checkGradient(layer, { maxElements: 40, ...c.opts });
        expect(failures).toEqual([]);
        expect(checked).toBeGreaterThan(0);
        layer.dispose();
      });
    }
  });
}

/**
 * The `embed` golden case at layer level. Through a Net it needs pycaffe's semantics of writing a diff into
 * a loss top (the written diff replaces the loss-weight seed); here the layer gets topdiff.y directly.
 */
export function embedFixtureSuite(backend: 'cpu' | 'wasm'): void {
  describe.skipIf(!hasFixtures)(`Embed against the Caffe 'embed' fixture on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });
    it('forward and parameter diffs match Caffe', () => {
      const dir = path.join(fixturesRoot, 'layers', 'embed');
      const npy = (f: string) => {
        const a = readNpy(path.join(dir, f));
        return tf.tensor(a.data, a.shape);
      };
      const layer = makeLayer('name: "embed" type: "Embed" bottom: "x" top: "y" embed_param { input_dim: 10 num_output: 4 }');
      const x = npy('in.x.npy');
      layer.setup([x.shape]);
      layer.blobs[0]!.assign(npy('param.embed.0.npy'));
      layer.blobs[1]!.assign(npy('param.embed.1.npy'));
      const tops = layer.forward([x]);
      const near = (a: tf.Tensor, e: tf.Tensor) => {
        expect(a.shape).toEqual(e.shape);
        const av = a.dataSync();
        e.dataSync().forEach((v, i) => expect(Math.abs(av[i]! - v)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v)));
      };
      near(tops[0]!, npy('out.y.npy'));
      const { paramDiffs } = layer.backward([x], tops, [npy('topdiff.y.npy')], [false]);
      near(paramDiffs[0]!, npy('pdiff.embed.0.npy'));
      near(paramDiffs[1]!, npy('pdiff.embed.1.npy'));
    });
  });
}
