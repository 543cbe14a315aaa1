// A seedable random source for fillers and dropout masks (Caffe's own RNG streams cannot be reproduced;
// kdnet's are deterministic for a given seed).
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed = Date.now()) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). mulberry32. */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller, pairs cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** The full state, to resume a stream exactly (kdnet's snapshot sidecar). */
  getState(): [number, number | null] {
    return [this.state, this.spare ?? null];
  }

  setState([state, spare]: [number, number | null]): void {
    this.state = state >>> 0;
    this.spare = spare ?? undefined;
  }

  /** Fisher–Yates shuffle of `xs` in place (Caffe's shuffle of lists and HDF5 rows). */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  /** A new independent stream derived from this one. */
  fork(): Rng {
    return new Rng(Math.floor(this.uniform() * 4294967296));
  }
}
