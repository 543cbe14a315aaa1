// Caffe's need-backward analysis (Net::Init): which layers run backward and which bottoms and parameters get a
// diff. "Needs a diff" propagates forward from learnable parameters; what cannot reach a loss is pruned
// backward; force_backward then asks every layer that has a backward for every diff it allows.
import type { Layer } from '../layers/layer.js';

/** What the analysis reads and writes of a net's layer entry. */
export interface BackwardEntry {
  layer: Layer;
  bottoms: Array<{ id: number }>;
  tops: Array<{ id: number }>;
  lossWeights: number[];
  needBackward: boolean;
  bottomNeedBackward: boolean[];
  paramNeedBackward: boolean[];
}

export function resolveNeedBackward(entries: BackwardEntry[], forceBackward: boolean): void {
  const blobNeed = new Map<number, boolean>();
  for (const e of entries) {
    const pd = e.layer.param.propagate_down as boolean[];
    let need = false;
    e.bottomNeedBackward = e.bottoms.map((b, i) => {
      const wants = blobNeed.get(b.id) === true;
      need ||= wants;
      return wants && (pd.length ? pd[i] === true : true);
    });
    if (pd.length && pd.length !== e.bottoms.length) {
      throw e.layer.error(`propagate_down has ${pd.length} values for ${e.bottoms.length} bottom blob(s)`, 'propagate_down');
    }
    need ||= e.paramNeedBackward.some(Boolean);
    need &&= e.layer.hasBackward();
    e.needBackward = need;
    for (const t of e.tops) blobNeed.set(t.id, need);
  }
  // Caffe inserts a Split layer wherever a blob feeds several layers, so a blob skips backpropagation only
  // when every layer reading it does (a zero-weight loss beside a real one must not cut the gradient off).
  const underLoss = new Set<number>();
  const read = new Set<number>();
  const wanted = new Set<number>();
  for (let li = entries.length - 1; li >= 0; li--) {
    const e = entries[li]!;
    let contributes = false;
    let skipPropagate = true;
    e.tops.forEach((t, i) => {
      if (e.lossWeights[i] !== 0 || underLoss.has(t.id)) contributes = true;
      if (!read.has(t.id) || wanted.has(t.id)) skipPropagate = false;
    });
    if (e.needBackward && skipPropagate) {
      e.needBackward = false;
      e.bottomNeedBackward = e.bottomNeedBackward.map(() => false);
    }
    if (!contributes) e.needBackward = false;
    e.bottoms.forEach((b, i) => {
      if (contributes) underLoss.add(b.id);
      else e.bottomNeedBackward[i] = false;
      read.add(b.id);
      if (e.bottomNeedBackward[i]) wanted.add(b.id);
    });
  }
  if (forceBackward) {
    for (const e of entries) {
      if (!e.layer.hasBackward()) continue;
      e.needBackward = true;
      e.bottomNeedBackward = e.bottomNeedBackward.map((n, i) => n || e.layer.allowForceBackward(i));
      e.paramNeedBackward = e.paramNeedBackward.map((_, i) => !e.layer.frozenBlobs.has(i));
    }
  }
}
