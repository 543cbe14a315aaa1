// Static shape inference for `kdnet check`: sets each layer up in order (zeros instead of random fills) to
// learn top shapes, parameter counts and an estimate of forward FLOPs. Blobs whose producer kdnet cannot set
// up statically (a Data layer's database, an unimplemented type) stay unknown, and so does what depends on them.
import * as tf from '@tensorflow/tfjs-core';
import type { Message } from '../proto/schema.js';
import { layerFactory } from '../layers/registry.js';
import { withShapeOnlyFillers } from '../layers/fillers.js';
import { Rng } from '../util/rng.js';
import type { Shape } from '../layers/layer.js';
import './all-layers.js';

export interface LayerShapes {
  name: string;
  tops: (Shape | undefined)[];
  params: number;
  flops: number | undefined;
  note?: string;
}

const count = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** Multiply-adds ×2 for the heavy layers; one op per output element for the rest. */
function estimateFlops(lp: Message, bottoms: Shape[], tops: Shape[], paramShapes: Shape[]): number {
  const out = tops[0] ? count(tops[0]) : 0;
  const w = paramShapes[0];
  switch (lp.type) {
    case 'Input':
      return 0;
    case 'Convolution':
      return w ? 2 * out * count(w.slice(1)) : out;
    case 'Deconvolution':
      return w && bottoms[0] ? 2 * count(bottoms[0]) * count(w.slice(1)) : out;
    case 'InnerProduct':
      return w ? (2 * out * count(w)) / (lp.inner_product_param?.transpose ? w[1]! : w[0]!) : out;
    default:
      return tops.reduce((s, t) => s + count(t), 0);
  }
}

export function inferShapes(net: Message, phase: number, known: Record<string, Shape> = {}): LayerShapes[] {
  const shapes = new Map<string, Shape | undefined>(Object.entries(known));
  const ctx = { phase, rng: new Rng(1) };
  const rows: LayerShapes[] = [];
  for (const lp of net.layer as Message[]) {
    const bottoms = (lp.bottom as string[]).map((b) => shapes.get(b));
    const Factory = layerFactory(lp.type);
    let tops: (Shape | undefined)[] = (lp.top as string[]).map(() => undefined);
    let params = 0;
    let flops: number | undefined;
    let note: string | undefined;
    const fedFromOutside = lp.type === 'Input' || !lp.bottom.length;
    const overrides = (lp.top as string[]).map((t) => known[t]);
    if (overrides.every((s) => s) && overrides.length) {
      tops = overrides;
    } else if (!Factory) {
      note = 'not runnable in kdnet yet';
    } else if (bottoms.some((b) => !b)) {
      note = 'depends on an unknown shape';
    } else if (new Factory(lp, ctx).readsDataSource()) {
      // kdnet check is static: a data layer's shapes are known only once its source is read.
      note = 'shape known only when data is read';
    } else {
      const layer = new Factory(lp, ctx);
      try {
        const result = withShapeOnlyFillers(() => tf.tidy(() => layer.setup(bottoms as Shape[])));
        tops = result;
        params = layer.blobs.reduce((s, b) => s + b.size, 0);
        flops = estimateFlops(lp, bottoms as Shape[], result, layer.blobs.map((b) => b.shape));
        if (fedFromOutside && result.some((s) => s.length === 0)) {
          tops = result.map((s) => (s.length ? s : undefined));
          note = 'shape known only when data is read';
        }
      } finally {
        layer.dispose();
      }
    }
    (lp.top as string[]).forEach((t, i) => shapes.set(t, tops[i]));
    rows.push({ name: lp.name, tops, params, flops, note });
  }
  return rows;
}
