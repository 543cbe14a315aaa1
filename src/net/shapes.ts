// Static shape inference for `kdnet check`: sets each layer up in order to learn top shapes, parameter counts
// and an estimate of forward FLOPs. Nothing is allocated: parameter blobs are shape-only placeholders
// (withShapeOnlyFillers), and every top and parameter shape is checked against what a blob can hold. Blobs
// whose producer kdnet cannot set up statically (a Data layer's database, an unimplemented type, a layer with
// a structural error) stay unknown, and so does what depends on them.
import * as tf from '@tensorflow/tfjs-core';
import type { Message } from '../proto/schema.js';
import { withShapeOnlyFillers } from '../layers/fillers.js';
import type { Layer, Shape } from '../layers/layer.js';
import { KdnetError } from '../errors.js';
import { arityErrors, describeLayer } from './structure.js';
import { computedShapeError, declaredShapeErrors, elementCount } from './blob-limits.js';

export interface LayerShapes {
  name: string;
  tops: (Shape | undefined)[];
  params: number;
  flops: number | undefined;
  note?: string;
}

export interface ShapeInference {
  rows: LayerShapes[];
  /** Problems set-up found (bad parameters, shapes no blob can have), in layer order. */
  errors: KdnetError[];
}

/** Multiply-adds ×2 for the heavy layers; one op per output element for the rest. */
function estimateFlops(lp: Message, bottoms: Shape[], tops: Shape[], paramShapes: Shape[]): number {
  const out = tops[0] ? elementCount(tops[0]) : 0;
  const w = paramShapes[0];
  switch (lp.type) {
    case 'Input':
      return 0;
    case 'Convolution':
      return w ? 2 * out * elementCount(w.slice(1)) : out;
    case 'Deconvolution':
      return w && bottoms[0] ? 2 * elementCount(bottoms[0]) * elementCount(w.slice(1)) : out;
    case 'InnerProduct':
      return w ? (2 * out * elementCount(w)) / (lp.inner_product_param?.transpose ? w[1]! : w[0]!) : out;
    default:
      return tops.reduce((s, t) => s + elementCount(t), 0);
  }
}

/** The field holding a layer's own parameters (`convolution_param`, ...), where parameter-blob errors point. */
function typeParamField(lp: Message): string | undefined {
  return Object.keys(lp).find((k) => k.endsWith('_param') && k !== 'transform_param' && k !== 'loss_param' && lp[k]);
}

/** Sets `layer` up shape-only; returns its top shapes and parameter shapes, or the errors it found. */
function setupShapeOnly(layer: Layer, lp: Message, bottoms: Shape[]): { tops: Shape[]; params: Shape[] } | KdnetError[] {
  let tops: Shape[];
  let params: Shape[];
  try {
    tops = withShapeOnlyFillers(() => tf.tidy(() => layer.setup(bottoms)));
    params = layer.blobs.map((b) => b.shape);
  } catch (e) {
    if (e instanceof KdnetError) return [e];
    throw e;
  } finally {
    layer.dispose();
  }
  // One error a layer: an oversized weight makes its bias and tops oversized too, for the same reason.
  const field = typeParamField(lp);
  const error =
    params.map((s, i) => computedShapeError(lp, s, `parameter blob ${i}`, field)).find((e) => e) ??
    tops.map((s, i) => computedShapeError(lp, s, `top blob '${(lp.top as string[])[i] ?? i}'`, 'top')).find((e) => e);
  return error ? [error] : { tops, params };
}

/** `baseDir`: the net file's folder, where layers find their side files (InfogainLoss's H), as in the Net. */
export function inferShapes(net: Message, phase: number, known: Record<string, Shape> = {}, baseDir?: string): ShapeInference {
  const shapes = new Map<string, Shape | undefined>(Object.entries(known));
  const rows: LayerShapes[] = [];
  const errors: KdnetError[] = [];
  for (const lp of net.layer as Message[]) {
    const bottoms = (lp.bottom as string[]).map((b) => shapes.get(b));
    const layer = describeLayer(lp, phase, baseDir);
    let tops: (Shape | undefined)[] = (lp.top as string[]).map(() => undefined);
    let params = 0;
    let flops: number | undefined;
    let note: string | undefined;
    const fedFromOutside = lp.type === 'Input' || !lp.bottom.length;
    const overrides = (lp.top as string[]).map((t) => known[t]);
    if (overrides.every((s) => s) && overrides.length) {
      tops = overrides;
    } else if (!layer) {
      note = 'not runnable in kdnet yet';
    } else if (arityErrors(layer, lp).length || declaredShapeErrors(lp).length) {
      note = 'not set up: see the errors below'; // reported by the structural check
    } else if (bottoms.some((b) => !b)) {
      note = 'depends on an unknown shape';
    } else if (layer.readsDataSource()) {
      // kdnet check is static: a data layer's shapes are known only once its source is read.
      note = 'shape known only when data is read';
    } else {
      const result = setupShapeOnly(layer, lp, bottoms as Shape[]);
      if (Array.isArray(result)) {
        errors.push(...result);
        note = 'set-up failed: see the errors below';
      } else {
        tops = result.tops;
        params = result.params.reduce((s, p) => s + elementCount(p), 0);
        flops = estimateFlops(lp, bottoms as Shape[], result.tops, result.params);
        if (fedFromOutside && result.tops.some((s) => s.length === 0)) {
          tops = result.tops.map((s) => (s.length ? s : undefined));
          note = 'shape known only when data is read';
        }
      }
    }
    (lp.top as string[]).forEach((t, i) => shapes.set(t, tops[i]));
    rows.push({ name: lp.name, tops, params, flops, note });
  }
  return { rows, errors };
}
