// The data flow of a net in one phase, as Caffe wires it: a bottom reads the latest earlier top of that name
// (in-place layers make a new version of the same name). The recipe matchers walk it from a loss layer back
// to the logits, and from the logits back to the layers that compute them.
import type { Message } from '../../proto/schema.js';
import { layerIncluded, readNetState } from '../../net/net-state.js';

export interface BlobUse {
  layer: number;
  bottom: number;
}

export class NetGraph {
  readonly layers: Message[];
  private readonly included: boolean[];
  /** producers[i][b]: the layer whose top bottom b of layer i reads, -1 when nothing earlier produces it. */
  private readonly producers: number[][];
  private readonly uses = new Map<string, BlobUse[]>();

  constructor(net: Message, phase: number) {
    this.layers = net.layer as Message[];
    const state = { ...readNetState(net.state), phase };
    this.included = this.layers.map((l) => layerIncluded(state, l));
    const latest = new Map<string, number>();
    this.producers = this.layers.map((l, i) => {
      if (!this.included[i]) return [];
      const from = (l.bottom as string[]).map((name, b) => {
        const p = latest.get(name) ?? -1;
        if (p >= 0) this.usesOf(p, name).push({ layer: i, bottom: b });
        return p;
      });
      for (const t of l.top as string[]) latest.set(t, i);
      return from;
    });
  }

  private usesOf(producer: number, blob: string): BlobUse[] {
    const key = `${producer}\u0000${blob}`;
    let list = this.uses.get(key);
    if (!list) this.uses.set(key, (list = []));
    return list;
  }

  includes(layer: number): boolean {
    return this.included[layer] === true;
  }

  /** Indices of the layers in this phase whose type is one of `types`. */
  layersOfType(...types: string[]): number[] {
    return this.layers.flatMap((l, i) => (this.included[i] && types.includes(l.type) ? [i] : []));
  }

  producer(layer: number, bottom: number): number {
    return this.producers[layer]?.[bottom] ?? -1;
  }

  /** The layers reading the version of `blob` that `producer` wrote. */
  consumers(producer: number, blob: string): BlobUse[] {
    return this.uses.get(`${producer}\u0000${blob}`) ?? [];
  }

  /** The layer whose `blob` a layer placed at `position` would read, skipping layers about to be removed. */
  latestBefore(position: number, blob: string, skip: ReadonlySet<number> = new Set()): number {
    for (let i = position - 1; i >= 0; i--) {
      if (this.included[i] && !skip.has(i) && (this.layers[i]!.top as string[]).includes(blob)) return i;
    }
    return -1;
  }

  /** `layer` and every layer whose output reaches it. */
  ancestors(layer: number): Set<number> {
    const seen = new Set<number>();
    const stack = [layer];
    while (stack.length) {
      const i = stack.pop()!;
      if (i < 0 || seen.has(i)) continue;
      seen.add(i);
      stack.push(...(this.producers[i] ?? []));
    }
    return seen;
  }

  name(layer: number): string {
    return `"${this.layers[layer]!.name}"`;
  }
}
