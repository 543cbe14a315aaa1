// What RNN and LSTM share (Caffe's RecurrentLayer): bottoms x (T × N × ...), cont (T × N), an optional static
// input (N × ...), and with recurrent_param.expose_hidden the initial states as extra bottoms and the final
// states as extra tops. Caffe builds an unrolled net; here each subclass computes the same function directly.
//
// Caffe semantics kept on purpose:
// * Without expose_hidden the state carries over between forward passes: the initial state of a pass is the
//   final state of the previous pass (zeros at first). It only matters where cont is 1 at t = 0.
// * Gradients flow to x, the static input and the parameters only. Caffe shares just the data (not the diff)
//   of the exposed state blobs, so the initial-state bottoms get no diff and the diffs of the final-state
//   tops are ignored; the sequence indicators cannot be backpropagated to at all.
// * T and the per-step input size are fixed at the first set-up (the unrolled net is built for them); the
//   number of streams N may change.
import * as tf from '@tensorflow/tfjs-core';
import { Layer, type BackwardResult, type Shape } from '../layer.js';

export interface ParamSpec {
  shape: number[];
  filler: 'weight' | 'bias';
}

export interface RecurrentRun {
  /** The time-varying output, T × N × H. */
  out: tf.Tensor;
  /** The state after the last step, one [N, H] tensor per state (h, then c for LSTM). */
  finals: tf.Tensor[];
}

export interface RecurrentGradients {
  dParams: tf.Tensor[];
  dx: tf.Tensor | null;
  dxStatic: tf.Tensor | null;
}

const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

export abstract class RecurrentLayer extends Layer {
  /** Number of recurrent state blobs: 1 (h) for RNN, 2 (h, c) for LSTM. */
  protected abstract readonly stateCount: number;

  protected T = 0;
  protected N = 0;
  /** Hidden size (recurrent_param.num_output). */
  protected H = 0;
  /** Features per time step of x (product of the axes after T and N). */
  protected D = 0;
  /** Features per stream of the static input (0 without one). */
  protected Ds = 0;
  protected staticInput = false;
  private configured = false;

  /** Per state: the carried-over state memory, `capacityRows` × H (Caffe's blob keeps its allocation). */
  private memory: tf.Tensor[] | null = null;
  private capacityRows = 0;
  /** Per state: the initial state ([N, H]) the last forward used; autodiff replays compute with it. */
  private initialUsed: tf.Tensor[] | null = null;

  protected get exposeHidden(): boolean {
    return this.param.recurrent_param?.expose_hidden === true;
  }

  override bottomCount(): [number, number] {
    const min = 2 + (this.exposeHidden ? this.stateCount : 0);
    return [min, min + 1];
  }

  override topCount(): [number, number] {
    const n = 1 + (this.exposeHidden ? this.stateCount : 0);
    return [n, n];
  }

  override allowForceBackward(bottomIndex: number): boolean {
    return bottomIndex !== 1;
  }

  /** Parameter blobs in Caffe's order for the current configuration. */
  protected abstract paramSpecs(): ParamSpec[];

  /** The recurrence: x [T, N, D], cont [T, N], static input [N, Ds] or null, initial states [N, H]. */
  protected abstract run(x: tf.Tensor, cont: tf.Tensor, xStatic: tf.Tensor | null, initial: tf.Tensor[], params: tf.Tensor[]): RecurrentRun;

  /**
   * Backpropagation through time of dOut (the diff of the T × N × H output) with Caffe's gradients: diffs of
   * every parameter blob, and of x ([T, N, D]) / the static input ([N, Ds]) when asked for.
   */
  protected abstract gradients(
    x: tf.Tensor,
    cont: tf.Tensor,
    xStatic: tf.Tensor | null,
    initial: tf.Tensor[],
    params: tf.Tensor[],
    dOut: tf.Tensor,
    wantX: boolean,
    wantStatic: boolean,
  ): RecurrentGradients;

  /** Index of the first initial-state bottom. */
  protected get stateBottomOffset(): number {
    return 2 + (this.staticInput ? 1 : 0);
  }

  setup(bottomShapes: Shape[]): Shape[] {
    const rp = this.param.recurrent_param;
    const H = Number(rp?.num_output ?? 0);
    if (!(H > 0)) throw this.error(`recurrent_param.num_output must be positive (got ${H})`, 'recurrent_param');
    const nExposed = this.exposeHidden ? this.stateCount : 0;
    const [minB, maxB] = this.bottomCount();
    if (bottomShapes.length < minB || bottomShapes.length > maxB) {
      throw this.error(
        `${this.type} takes ${minB} or ${maxB} bottoms (x, cont${nExposed ? `, ${this.stateNames().map((s) => `${s}_0`).join(', ')}` : ''}, and optionally a static input after cont); got ${bottomShapes.length}`,
        'bottom',
      );
    }
    const xs = bottomShapes[0]!;
    if (xs.length < 2) throw this.error(`bottom[0] (x) must have at least 2 axes (timesteps, streams, ...); got shape [${xs.join(', ')}]`, 'bottom');
    const T = xs[0]!;
    const N = xs[1]!;
    if (T < 1) throw this.error(`bottom[0] (x) must have at least one timestep; got shape [${xs.join(', ')}]`, 'bottom');
    const D = product(xs.slice(2));
    const cs = bottomShapes[1]!;
    if (cs.length !== 2 || cs[0] !== T || cs[1] !== N) {
      throw this.error(`bottom[1] (cont) must have shape [T, N] = [${T}, ${N}] to match x [${xs.join(', ')}]; got [${cs.join(', ')}]`, 'bottom');
    }
    const staticInput = bottomShapes.length > 2 + nExposed;
    let Ds = 0;
    if (staticInput) {
      const ss = bottomShapes[2]!;
      if (ss.length < 1 || ss[0] !== N) {
        throw this.error(`bottom[2] (static input) must have N = ${N} as its first axis (one row per stream); got shape [${ss.join(', ')}]`, 'bottom');
      }
      Ds = product(ss.slice(1));
    }
    if (!this.configured) {
      this.T = T;
      this.D = D;
      this.Ds = Ds;
      this.H = H;
      this.staticInput = staticInput;
    } else {
      if (T !== this.T) throw this.error(`the number of timesteps of x changed from ${this.T} to ${T} (Caffe builds the unrolled net for a fixed T)`, 'bottom');
      if (D !== this.D) throw this.error(`x has ${D} features per step but the layer was set up with ${this.D}`, 'bottom');
      if (staticInput && Ds !== this.Ds) throw this.error(`the static input has ${Ds} features per stream but the layer was set up with ${this.Ds}`, 'bottom');
    }
    this.N = N;
    if (nExposed) {
      const off = this.stateBottomOffset;
      this.stateNames().forEach((s, j) => {
        const shape = bottomShapes[off + j]!;
        if (shape.length !== 3 || shape[0] !== 1 || shape[1] !== N || shape[2] !== H) {
          throw this.error(`bottom[${off + j}] (${s}_0, initial state) must have shape [1, ${N}, ${H}]; got [${shape.join(', ')}]`, 'bottom');
        }
      });
    }
    if (!this.configured) {
      const weightFiller = rp?.weight_filler;
      const biasFiller = rp?.bias_filler;
      for (const p of this.paramSpecs()) {
        this.blobs.push(this.createParam(p.filler === 'weight' ? weightFiller : biasFiller, p.shape, `recurrent_param.${p.filler}_filler`));
      }
      this.configured = true;
    }
    return [[T, N, H], ...Array.from({ length: nExposed }, () => [1, N, H])];
  }

  /** h, then c for LSTM. */
  protected stateNames(): string[] {
    return ['h', 'c'].slice(0, this.stateCount);
  }

  /** Forgets the carried-over state (Caffe's RecurrentLayer::Reset): the next forward starts from zeros. */
  resetState(): void {
    if (this.memory) tf.dispose(this.memory);
    this.memory = null;
    this.capacityRows = 0;
  }

  /** The recurrence inputs in the shapes `run` takes, with the initial state of the current pass. */
  private inputs(bottoms: tf.Tensor[]): { x: tf.Tensor; cont: tf.Tensor; xStatic: tf.Tensor | null; initial: tf.Tensor[] } {
    const x = bottoms[0]!;
    const [T, N] = x.shape as [number, number];
    const H = this.H;
    let initial: tf.Tensor[];
    if (this.exposeHidden) {
      const off = this.stateBottomOffset;
      initial = Array.from({ length: this.stateCount }, (_, j) => tf.reshape(bottoms[off + j]!, [N, H]));
    } else {
      const used = this.initialUsed;
      initial = used && used[0]!.shape[0] === N ? used : Array.from({ length: this.stateCount }, () => tf.zeros([N, H]));
    }
    return {
      x: tf.reshape(x, [T, N, this.D]),
      cont: bottoms[1]!,
      xStatic: this.staticInput ? tf.reshape(bottoms[2]!, [N, this.Ds]) : null,
      initial,
    };
  }

  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    const { x, cont, xStatic, initial } = this.inputs(bottoms);
    const { out, finals } = this.run(x, cont, xStatic, initial, params);
    if (!this.exposeHidden) return [out];
    const [, N] = x.shape as [number, number];
    return [out, ...finals.map((f) => tf.reshape(f, [1, N, this.H]))];
  }

  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    if (this.exposeHidden) return tf.tidy(() => this.compute(bottoms, this.blobs));
    const N = bottoms[0]!.shape[1]!;
    const H = this.H;
    // Caffe copies the previous final state into the initial state. Its state blob keeps its allocation when
    // N shrinks (the first N rows are what remains) and starts again from zeros when N outgrows it.
    if (!this.memory || N > this.capacityRows) {
      this.resetState();
      this.memory = Array.from({ length: this.stateCount }, () => tf.keep(tf.zeros([N, H])));
      this.capacityRows = N;
    }
    const memory = this.memory;
    const initial = memory.map((m) => tf.keep(N === this.capacityRows ? tf.clone(m) : tf.slice(m, [0, 0], [N, H])));
    if (this.initialUsed) tf.dispose(this.initialUsed);
    this.initialUsed = initial;
    const { tops, finals } = tf.tidy(() => {
      const { x, cont, xStatic } = this.inputs(bottoms);
      const r = this.run(x, cont, xStatic, initial, this.blobs);
      return { tops: [r.out], finals: r.finals };
    });
    // The state outlives any tidy scope the caller runs forward in (kept until replaced or disposed).
    this.memory = finals.map((f, j) => {
      if (N === this.capacityRows) return tf.keep(f);
      const rest = tf.slice(memory[j]!, [N, 0], [this.capacityRows - N, H]);
      const m = tf.keep(tf.concat([f, rest], 0));
      tf.dispose([rest, f]);
      return m;
    });
    tf.dispose(memory);
    return tops;
  }

  override backward(bottoms: tf.Tensor[], _tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    if (propagateDown[1]) {
      throw this.error(`cannot backpropagate to the sequence continuation indicators (bottom[1] '${(this.param.bottom as string[])[1] ?? 'cont'}')`, 'bottom');
    }
    // Only x and the static input receive diffs, and only the time-varying output's diff is used (see header).
    const wantX = propagateDown[0] === true;
    const wantStatic = this.staticInput && propagateDown[2] === true;
    const g = tf.tidy(() => {
      const { x, cont, xStatic, initial } = this.inputs(bottoms);
      const r = this.gradients(x, cont, xStatic, initial, this.blobs, topDiffs[0]!, wantX, wantStatic);
      return {
        params: r.dParams,
        x: r.dx ? [tf.reshape(r.dx, bottoms[0]!.shape)] : [],
        xStatic: r.dxStatic ? [tf.reshape(r.dxStatic, bottoms[2]!.shape)] : [],
      };
    });
    const bottomDiffs: (tf.Tensor | null)[] = bottoms.map(() => null);
    if (g.x[0]) bottomDiffs[0] = g.x[0];
    if (g.xStatic[0]) bottomDiffs[2] = g.xStatic[0];
    return { bottomDiffs, paramDiffs: g.params };
  }

  override dispose(): void {
    this.resetState();
    if (this.initialUsed) tf.dispose(this.initialUsed);
    this.initialUsed = null;
    super.dispose();
  }
}
