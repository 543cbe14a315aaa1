// A finite-difference gradient checker in the spirit of Caffe's GradientChecker: the objective is
// Σ_i <top_i, r_i> with fixed random r; each checked bottom/param element is perturbed by ±step and the
// central difference is compared with the layer's backward. Elements within `kink_range` of a kink (ReLU at
// 0, Threshold, abs) can be skipped like Caffe's `kink` option.
import * as tf from '@tensorflow/tfjs-core';
import { parseCaffeText } from '../../src/proto/text.js';
import { layerFactory } from '../../src/layers/registry.js';
import type { Layer } from '../../src/layers/layer.js';
import { Rng } from '../../src/util/rng.js';
import { Phase } from '../../src/net/net-state.js';
import '../../src/net/all-layers.js';

export interface GradientCheckOptions {
  /** Bottom values (NCHW); each Float32Array gets the matching shape. */
  bottoms: Array<{ shape: number[]; values?: Float32Array; check?: boolean }>;
  phase?: number;
  step?: number;
  threshold?: number;
  /** Skip elements whose value is within kinkRange of kink (Caffe's kink / kink_range). */
  kink?: number;
  kinkRange?: number;
  /** Check at most this many elements per blob (randomly chosen), to keep tests fast. */
  maxElements?: number;
  /** Also check parameter blobs. */
  checkParams?: boolean;
  seed?: number;
}

export interface GradientCheckResult {
  checked: number;
  failures: string[];
}

export function makeLayer(layerText: string, phase: number = Phase.TRAIN, seed = 7): Layer {
  const net = parseCaffeText(layerText.includes('layer') ? layerText : `layer { ${layerText} }`, 'NetParameter').message;
  const lp = net.layer[0];
  const Factory = layerFactory(lp.type);
  if (!Factory) throw new Error(`layer type ${lp.type} is not registered`);
  return new Factory(lp, { phase, rng: new Rng(seed) });
}

export function checkGradient(layer: Layer, opts: GradientCheckOptions): GradientCheckResult {
  const rng = new Rng(opts.seed ?? 1234);
  const step = opts.step ?? 1e-2;
  const threshold = opts.threshold ?? 1e-2;
  const maxElements = opts.maxElements ?? 60;
  const bottomValues = opts.bottoms.map((b) => b.values ?? Float32Array.from({ length: b.shape.reduce((x, y) => x * y, 1) }, () => rng.normal()));
  layer.setup(opts.bottoms.map((b) => b.shape));
  const bottoms = bottomValues.map((v, i) => tf.tensor(v, opts.bottoms[i]!.shape));
  const tops = layer.forward(bottoms);
  const weights = tops.map((t) => tf.tensor(Float32Array.from({ length: t.size }, () => rng.normal()), t.shape));
  const propagate = opts.bottoms.map((b) => b.check !== false);
  const { bottomDiffs, paramDiffs } = layer.backward(bottoms, tops, weights, propagate);
  const objective = (bs: tf.Tensor[]): number =>
    tf.tidy(() => {
      const outs = layer.forward(bs);
      let s = 0;
      outs.forEach((o, i) => {
        s += tf.sum(tf.mul(o, weights[i]!)).dataSync()[0]!;
      });
      return s;
    });
  const failures: string[] = [];
  let checked = 0;
  const pick = (n: number) => {
    if (n <= maxElements) return [...Array(n).keys()];
    const set = new Set<number>();
    while (set.size < maxElements) set.add(Math.floor(rng.uniform() * n));
    return [...set];
  };
  const judge = (label: string, idx: number, analytic: number, numeric: number) => {
    checked++;
    const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1);
    if (!(Math.abs(analytic - numeric) <= threshold * scale)) failures.push(`${label}[${idx}]: backward ${analytic} vs numeric ${numeric}`);
  };
  bottoms.forEach((b, bi) => {
    if (!propagate[bi]) return;
    const base = bottomValues[bi]!;
    const analytic = bottomDiffs[bi]?.dataSync();
    for (const idx of pick(base.length)) {
      if (opts.kink !== undefined && Math.abs(base[idx]! - opts.kink) < (opts.kinkRange ?? step * 2)) continue;
      const plus = Float32Array.from(base);
      plus[idx] = plus[idx]! + step;
      const minus = Float32Array.from(base);
      minus[idx] = minus[idx]! - step;
      const withPlus = bottoms.map((t, k) => (k === bi ? tf.tensor(plus, t.shape) : t));
      const withMinus = bottoms.map((t, k) => (k === bi ? tf.tensor(minus, t.shape) : t));
      const numeric = (objective(withPlus) - objective(withMinus)) / (2 * step);
      withPlus[bi]!.dispose();
      withMinus[bi]!.dispose();
      judge(`bottom ${bi}`, idx, analytic ? analytic[idx]! : 0, numeric);
    }
  });
  if (opts.checkParams !== false) {
    layer.blobs.forEach((p, pi) => {
      if (layer.frozenBlobs.has(pi)) return;
      const base = Float32Array.from(p.dataSync());
      const analytic = paramDiffs[pi]?.dataSync();
      for (const idx of pick(base.length)) {
        const at = (delta: number) => {
          const v = Float32Array.from(base);
          v[idx] = v[idx]! + delta;
          const t = tf.tensor(v, p.shape);
          p.assign(t);
          t.dispose();
          return objective(bottoms);
        };
        const numeric = (at(step) - at(-step)) / (2 * step);
        const orig = tf.tensor(base, p.shape);
        p.assign(orig);
        orig.dispose();
        judge(`param ${pi}`, idx, analytic ? analytic[idx]! : 0, numeric);
      }
    });
  }
  tf.dispose([...bottoms, ...tops, ...weights, ...bottomDiffs.filter((d): d is tf.Tensor => !!d), ...paramDiffs.filter((d): d is tf.Tensor => !!d)]);
  return { checked, failures };
}
