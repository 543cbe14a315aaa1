// Tests of the recurrent family (RNN, LSTM, LSTMUnit) for one backend: gradient checks (cont resets in the
// middle of a sequence, static input, expose_hidden), forward values against a plain float64 reference,
// Caffe's stateful behaviour (state carried between passes, no diff through the exposed states), and
// configuration errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/select.js';
import { KdnetError } from '../../../src/errors.js';
import { Layer, type BackwardResult, type Shape } from '../../../src/layers/layer.js';
import type { RecurrentLayer } from '../../../src/layers/recurrent/recurrent-base.js';
import { Net } from '../../../src/net/net.js';
import { Phase } from '../../../src/net/net-state.js';
import { parseCaffeText } from '../../../src/proto/text.js';
import { Rng } from '../../../src/util/rng.js';
import { checkGradient, makeLayer } from '../../support/gradient-check.js';

const T = 3;
const N = 2;
const D = 3;
const H = 4;
const Ds = 2;

const FILLERS = 'weight_filler { type: "uniform" min: -0.6 max: 0.6 } bias_filler { type: "uniform" min: -0.4 max: 0.4 }';

function recurrentLayer(type: 'RNN' | 'LSTM', opts: { expose?: boolean; staticInput?: boolean; numOutput?: number } = {}): RecurrentLayer {
  const states = type === 'LSTM' ? ['h0', 'c0'] : ['h0'];
  const bottoms = ['x', 'cont', ...(opts.staticInput ? ['xs'] : []), ...(opts.expose ? states : [])];
  const tops = ['y', ...(opts.expose ? states.map((s) => s.replace('0', 'T')) : [])];
  return makeLayer(
    `name: "r" type: "${type}" ${bottoms.map((b) => `bottom: "${b}"`).join(' ')} ${tops.map((t) => `top: "${t}"`).join(' ')} ` +
      `recurrent_param { num_output: ${opts.numOutput ?? H} ${FILLERS} ${opts.expose ? 'expose_hidden: true' : ''} }`,
  ) as RecurrentLayer;
}

const lstmUnit = () => makeLayer('name: "u" type: "LSTMUnit" bottom: "c_prev" bottom: "x" bottom: "cont" top: "c" top: "h"');

function randoms(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** The checker weighs every top; Caffe ignores the diffs of the exposed final states, so check the output only. */
class OutputOnly extends Layer {
  constructor(readonly inner: Layer) {
    super(inner.param, inner.ctx);
  }
  setup(shapes: Shape[]): Shape[] {
    const tops = this.inner.setup(shapes);
    this.blobs = this.inner.blobs;
    return [tops[0]!];
  }
  compute(bottoms: tf.Tensor[], params: tf.Tensor[]): tf.Tensor[] {
    return [this.inner.compute(bottoms, params)[0]!];
  }
  override forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    const tops = this.inner.forward(bottoms);
    tf.dispose(tops.slice(1));
    return [tops[0]!];
  }
  override backward(bottoms: tf.Tensor[], tops: tf.Tensor[], topDiffs: tf.Tensor[], propagateDown: boolean[]): BackwardResult {
    return this.inner.backward(bottoms, tops, topDiffs, propagateDown);
  }
}

// ---------------------------------------------------------------- float64 references

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

interface RefResult {
  out: number[];
  finals: number[][];
}

/** Caffe's LSTM: params W_xc, b_c, [W_xc_static], W_hc as flat arrays; states [N*H]. */
function refLSTM(x: ArrayLike<number>, cont: ArrayLike<number>, xs: ArrayLike<number> | null, h0: number[], c0: number[], p: ArrayLike<number>[], dims: { T: number; N: number; D: number; H: number; Ds: number }): RefResult {
  const { T, N, D, H, Ds } = dims;
  const [wxc, bc] = [p[0]!, p[1]!];
  const ws = xs ? p[2]! : null;
  const whc = p[xs ? 3 : 2]!;
  let h = [...h0];
  let c = [...c0];
  const out: number[] = [];
  for (let t = 0; t < T; t++) {
    const nh = new Array<number>(N * H);
    const nc = new Array<number>(N * H);
    for (let n = 0; n < N; n++) {
      const k = cont[t * N + n]!;
      const gate = (r: number) => {
        let s = bc[r]!;
        for (let d = 0; d < D; d++) s += wxc[r * D + d]! * x[(t * N + n) * D + d]!;
        if (xs && ws) for (let d = 0; d < Ds; d++) s += ws[r * Ds + d]! * xs[n * Ds + d]!;
        for (let j = 0; j < H; j++) s += whc[r * H + j]! * k * h[n * H + j]!;
        return s;
      };
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gate(j));
        const f = k * sigmoid(gate(H + j));
        const o = sigmoid(gate(2 * H + j));
        const g = Math.tanh(gate(3 * H + j));
        nc[n * H + j] = f * c[n * H + j]! + i * g;
        nh[n * H + j] = o * Math.tanh(nc[n * H + j]!);
      }
    }
    h = nh;
    c = nc;
    out.push(...h);
  }
  return { out, finals: [h, c] };
}

/** Caffe's RNN: params W_xh, b_h, [W_xh_static], W_hh, W_ho, b_o. */
function refRNN(x: ArrayLike<number>, cont: ArrayLike<number>, xs: ArrayLike<number> | null, h0: number[], p: ArrayLike<number>[], dims: { T: number; N: number; D: number; H: number; Ds: number }): RefResult {
  const { T, N, D, H, Ds } = dims;
  const k0 = xs ? 1 : 0;
  const [wxh, bh] = [p[0]!, p[1]!];
  const ws = xs ? p[2]! : null;
  const [whh, who, bo] = [p[2 + k0]!, p[3 + k0]!, p[4 + k0]!];
  let h = [...h0];
  const out: number[] = [];
  for (let t = 0; t < T; t++) {
    const nh = new Array<number>(N * H);
    for (let n = 0; n < N; n++) {
      const k = cont[t * N + n]!;
      for (let r = 0; r < H; r++) {
        let s = bh[r]!;
        for (let d = 0; d < D; d++) s += wxh[r * D + d]! * x[(t * N + n) * D + d]!;
        if (xs && ws) for (let d = 0; d < Ds; d++) s += ws[r * Ds + d]! * xs[n * Ds + d]!;
        for (let j = 0; j < H; j++) s += whh[r * H + j]! * k * h[n * H + j]!;
        nh[n * H + r] = Math.tanh(s);
      }
    }
    h = nh;
    for (let n = 0; n < N; n++) {
      for (let r = 0; r < H; r++) {
        let s = bo[r]!;
        for (let j = 0; j < H; j++) s += who[r * H + j]! * h[n * H + j]!;
        out.push(Math.tanh(s));
      }
    }
  }
  return { out, finals: [h] };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) bad.push(`[${i}] ${a} vs ${e}`);
  }
  expect(bad).toEqual([]);
}

const paramValues = (l: Layer) => l.blobs.map((b) => Array.from(b.dataSync()));

function forwardValues(l: Layer, inputs: Array<{ shape: number[]; values: ArrayLike<number> }>): number[][] {
  const bottoms = inputs.map((b) => tf.tensor(Array.from(b.values), b.shape));
  const tops = l.forward(bottoms);
  const vals = tops.map((t) => Array.from(t.dataSync()));
  tf.dispose([...bottoms, ...tops]);
  return vals;
}

// cont with a reset of stream 1 at t = 1 (both streams start at t = 0, so no state enters from outside).
const CONT_RESET = Float32Array.from([0, 0, 1, 0, 1, 1]);
// For expose_hidden: stream 0 continues from h_0 at t = 0 and restarts at t = 1.
const CONT_EXPOSED = Float32Array.from([1, 0, 0, 1, 1, 1]);

export function recurrentSuite(backend: 'cpu' | 'wasm'): void {
  describe(`recurrent layers on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });

    describe('gradient checks (T=3, N=2, D=3, H=4)', () => {
      for (const type of ['RNN', 'LSTM'] as const) {
        const nStates = type === 'LSTM' ? 2 : 1;
        it(`${type}: x and every parameter, cont resets mid-sequence`, () => {
          const layer = recurrentLayer(type);
          const r = checkGradient(layer, {
            bottoms: [{ shape: [T, N, D] }, { shape: [T, N], values: CONT_RESET, check: false }],
          });
          expect(r.failures).toEqual([]);
          expect(r.checked).toBe(T * N * D + layer.blobs.reduce((s, b) => s + Math.min(b.size, 60), 0));
          layer.dispose();
        });

        it(`${type}: with a static input (x, x_static, parameters incl. W_static)`, () => {
          const layer = recurrentLayer(type, { staticInput: true });
          const r = checkGradient(layer, {
            bottoms: [{ shape: [T, N, D] }, { shape: [T, N], values: CONT_RESET, check: false }, { shape: [N, Ds] }],
          });
          expect(layer.blobs.length).toBe(type === 'LSTM' ? 4 : 6);
          expect(r.failures).toEqual([]);
          expect(r.checked).toBeGreaterThan(T * N * D + N * Ds);
          layer.dispose();
        });

        it(`${type}: expose_hidden with an initial state that reaches the output, and a static input`, () => {
          const inner = recurrentLayer(type, { expose: true, staticInput: true });
          const layer = new OutputOnly(inner);
          const states = Array.from({ length: nStates }, () => ({ shape: [1, N, H], check: false }));
          const r = checkGradient(layer, {
            bottoms: [{ shape: [T, N, D] }, { shape: [T, N], values: CONT_EXPOSED, check: false }, { shape: [N, Ds] }, ...states],
          });
          expect(r.failures).toEqual([]);
          expect(r.checked).toBeGreaterThan(T * N * D);
          inner.dispose();
        });

        it(`${type}: an x with extra trailing axes (T × N × 1 × D) is flattened per step`, () => {
          const layer = recurrentLayer(type);
          const r = checkGradient(layer, {
            bottoms: [{ shape: [T, N, 1, D] }, { shape: [T, N], values: CONT_RESET, check: false }],
            checkParams: false,
          });
          expect(layer.blobs[0]!.shape).toEqual([type === 'LSTM' ? 4 * H : H, D]);
          expect(r.failures).toEqual([]);
          layer.dispose();
        });
      }

      it('LSTMUnit: c_prev and the gate pre-activations, with a reset stream', () => {
        const layer = lstmUnit();
        const r = checkGradient(layer, {
          bottoms: [{ shape: [1, N, H] }, { shape: [1, N, 4 * H] }, { shape: [1, N], values: Float32Array.from([1, 0]), check: false }],
        });
        expect(r.failures).toEqual([]);
        expect(r.checked).toBe(N * H + N * 4 * H);
      });
    });

    describe('forward values (float64 reference)', () => {
      for (const staticInput of [false, true]) {
        for (const expose of [false, true]) {
          const label = `${staticInput ? 'static input' : 'no static input'}, ${expose ? 'expose_hidden' : 'hidden state internal'}`;
          it(`LSTM: ${label}`, () => {
            const layer = recurrentLayer('LSTM', { staticInput, expose });
            const x = randoms(T * N * D, 11);
            const xs = randoms(N * Ds, 12);
            const h0 = Array.from(randoms(N * H, 13));
            const c0 = Array.from(randoms(N * H, 14));
            const cont = expose ? CONT_EXPOSED : CONT_RESET;
            const shapes = [[T, N, D], [T, N], ...(staticInput ? [[N, Ds]] : []), ...(expose ? [[1, N, H], [1, N, H]] : [])];
            const topShapes = layer.setup(shapes);
            expect(topShapes).toEqual([[T, N, H], ...(expose ? [[1, N, H], [1, N, H]] : [])]);
            expect(layer.blobs.map((b) => b.shape)).toEqual([[4 * H, D], [4 * H], ...(staticInput ? [[4 * H, Ds]] : []), [4 * H, H]]);
            const got = forwardValues(layer, [
              { shape: [T, N, D], values: x },
              { shape: [T, N], values: cont },
              ...(staticInput ? [{ shape: [N, Ds], values: xs }] : []),
              ...(expose ? [{ shape: [1, N, H], values: h0 }, { shape: [1, N, H], values: c0 }] : []),
            ]);
            const zeros = new Array<number>(N * H).fill(0);
            const ref = refLSTM(x, cont, staticInput ? xs : null, expose ? h0 : zeros, expose ? c0 : zeros, paramValues(layer), { T, N, D, H, Ds });
            expectClose(got[0]!, ref.out);
            if (expose) {
              expectClose(got[1]!, ref.finals[0]!);
              expectClose(got[2]!, ref.finals[1]!);
            }
            layer.dispose();
          });

          it(`RNN: ${label}`, () => {
            const layer = recurrentLayer('RNN', { staticInput, expose });
            const x = randoms(T * N * D, 21);
            const xs = randoms(N * Ds, 22);
            const h0 = Array.from(randoms(N * H, 23));
            const cont = expose ? CONT_EXPOSED : CONT_RESET;
            const shapes = [[T, N, D], [T, N], ...(staticInput ? [[N, Ds]] : []), ...(expose ? [[1, N, H]] : [])];
            expect(layer.setup(shapes)).toEqual([[T, N, H], ...(expose ? [[1, N, H]] : [])]);
            expect(layer.blobs.map((b) => b.shape)).toEqual([[H, D], [H], ...(staticInput ? [[H, Ds]] : []), [H, H], [H, H], [H]]);
            const got = forwardValues(layer, [
              { shape: [T, N, D], values: x },
              { shape: [T, N], values: cont },
              ...(staticInput ? [{ shape: [N, Ds], values: xs }] : []),
              ...(expose ? [{ shape: [1, N, H], values: h0 }] : []),
            ]);
            const ref = refRNN(x, cont, staticInput ? xs : null, expose ? h0 : new Array<number>(N * H).fill(0), paramValues(layer), { T, N, D, H, Ds });
            expectClose(got[0]!, ref.out);
            if (expose) expectClose(got[1]!, ref.finals[0]!);
            layer.dispose();
          });
        }
      }

      it('LSTMUnit: one step by hand (N=1, H=1), and a zero cont drops c_prev', () => {
        const layer = lstmUnit();
        layer.setup([[1, 2, 1], [1, 2, 4], [1, 2]]);
        const a = [0.2, -0.3, 0.5, 0.1];
        const [c, h] = forwardValues(layer, [
          { shape: [1, 2, 1], values: [0.7, 0.7] },
          { shape: [1, 2, 4], values: [...a, ...a] },
          { shape: [1, 2], values: [1, 0] },
        ]);
        const i = sigmoid(0.2);
        const f = sigmoid(-0.3);
        const o = sigmoid(0.5);
        const g = Math.tanh(0.1);
        const c1 = f * 0.7 + i * g;
        const c0 = i * g;
        expectClose(c!, [c1, c0]);
        expectClose(h!, [o * Math.tanh(c1), o * Math.tanh(c0)]);
      });
    });

    describe("Caffe's semantics", () => {
      it('LSTMUnit reproduces Caffe\'s forget-gate gradient for a fractional cont (f already scaled by cont)', () => {
        const layer = lstmUnit();
        layer.setup([[1, 1, 1], [1, 1, 4], [1, 1]]);
        const a = [0.2, -0.3, 0.5, 0.1];
        const bottoms = [tf.tensor([0.7], [1, 1, 1]), tf.tensor(a, [1, 1, 4]), tf.tensor([0.5], [1, 1])];
        const tops = layer.forward(bottoms);
        const dC = 0.3;
        const dH = -0.4;
        const diffs = [tf.tensor([dC], [1, 1, 1]), tf.tensor([dH], [1, 1, 1])];
        const { bottomDiffs } = layer.backward(bottoms, tops, diffs, [true, true, false]);
        const i = sigmoid(0.2);
        const f = 0.5 * sigmoid(-0.3);
        const o = sigmoid(0.5);
        const g = Math.tanh(0.1);
        const c = f * 0.7 + i * g;
        const tc = Math.tanh(c);
        const dCell = dC + dH * o * (1 - tc * tc);
        const caffeDf = dCell * 0.7 * f * (1 - f);
        const exactDf = dCell * 0.7 * 0.5 * sigmoid(-0.3) * (1 - sigmoid(-0.3));
        expect(Math.abs(caffeDf - exactDf)).toBeGreaterThan(1e-3);
        expectClose(bottomDiffs[0]!.dataSync(), [dCell * f]);
        expectClose(bottomDiffs[1]!.dataSync(), [dCell * g * i * (1 - i), caffeDf, dH * tc * o * (1 - o), dCell * i * (1 - g * g)]);
        expect(bottomDiffs[2]).toBeNull();
        tf.dispose([...bottoms, ...tops, ...diffs, ...bottomDiffs.filter((d): d is tf.Tensor => !!d)]);
      });

      for (const type of ['RNN', 'LSTM'] as const) {
        const nStates = type === 'LSTM' ? 2 : 1;
        const ref = (x: Float32Array, cont: ArrayLike<number>, init: number[][], p: number[][], n = N) =>
          type === 'LSTM' ? refLSTM(x, cont, null, init[0]!, init[1]!, p, { T, N: n, D, H, Ds }) : refRNN(x, cont, null, init[0]!, p, { T, N: n, D, H, Ds });

        it(`${type}: without expose_hidden the final state of one pass is the initial state of the next`, () => {
          const layer = recurrentLayer(type);
          layer.setup([[T, N, D], [T, N]]);
          const p = paramValues(layer);
          const cont = new Float32Array(T * N).fill(1);
          const zeros = () => Array.from({ length: nStates }, () => new Array<number>(N * H).fill(0));
          const x1 = randoms(T * N * D, 31);
          const x2 = randoms(T * N * D, 32);
          const r1 = ref(x1, cont, zeros(), p);
          const r2 = ref(x2, cont, r1.finals, p);
          expectClose(forwardValues(layer, [{ shape: [T, N, D], values: x1 }, { shape: [T, N], values: cont }])[0]!, r1.out);
          expectClose(forwardValues(layer, [{ shape: [T, N, D], values: x2 }, { shape: [T, N], values: cont }])[0]!, r2.out);
          // Backward replays a pass with the initial state that pass used: after passes on x1 then x2, the
          // gradient equals that of an exposed layer (same weights) fed r1's final state as h_0 (and c_0).
          const exposed = recurrentLayer(type, { expose: true });
          exposed.setup([[T, N, D], [T, N], ...Array.from({ length: nStates }, () => [1, N, H])]);
          exposed.blobs.forEach((b, i) => b.assign(layer.blobs[i]!));
          const dOut = tf.tensor(Array.from(randoms(T * N * H, 33)), [T, N, H]);
          const x1b = tf.tensor(Array.from(x1), [T, N, D]);
          const xb = tf.tensor(Array.from(x2), [T, N, D]);
          const cb = tf.tensor(Array.from(cont), [T, N]);
          const states = r1.finals.map((s) => tf.tensor(s, [1, N, H]));
          const fresh = recurrentLayer(type);
          fresh.setup([[T, N, D], [T, N]]);
          fresh.blobs.forEach((b, i) => b.assign(layer.blobs[i]!));
          tf.dispose(fresh.forward([x1b, cb]));
          const topsF = fresh.forward([xb, cb]);
          const gF = fresh.backward([xb, cb], topsF, [dOut], [true, false]);
          const topsE = exposed.forward([xb, cb, ...states]);
          const gE = exposed.backward([xb, cb, ...states], topsE, [dOut, ...topsE.slice(1).map((t) => tf.zerosLike(t))], [true, false, ...states.map(() => true)]);
          expectClose(topsF[0]!.dataSync(), topsE[0]!.dataSync());
          expectClose(gF.bottomDiffs[0]!.dataSync(), gE.bottomDiffs[0]!.dataSync());
          gF.paramDiffs.forEach((d, i) => expectClose(d!.dataSync(), gE.paramDiffs[i]!.dataSync()));
          tf.dispose([dOut, x1b, xb, cb, ...states, ...topsF, ...topsE]);
          layer.dispose();
          fresh.dispose();
          exposed.dispose();
        });

        it(`${type}: resetState() starts again from zeros; a smaller N keeps the first rows of the state, a larger one starts from zeros`, () => {
          const layer = recurrentLayer(type);
          layer.setup([[T, N, D], [T, N]]);
          const p = paramValues(layer);
          const zeros = (n: number) => Array.from({ length: nStates }, () => new Array<number>(n * H).fill(0));
          const run = (n: number, seed: number) => {
            const x = randoms(T * n * D, seed);
            const cont = new Float32Array(T * n).fill(1);
            layer.setup([[T, n, D], [T, n]]);
            return { x, cont, out: forwardValues(layer, [{ shape: [T, n, D], values: x }, { shape: [T, n], values: cont }])[0]! };
          };
          const a = run(2, 41);
          const ra = ref(a.x, a.cont, zeros(2), p, 2);
          expectClose(a.out, ra.out);
          // N = 1: the first row of the previous final state.
          const b = run(1, 42);
          const rb = ref(b.x, b.cont, ra.finals.map((s) => s.slice(0, H)), p, 1);
          expectClose(b.out, rb.out);
          // Back to N = 2 (within the allocation): row 0 from the N = 1 pass, row 1 from the first pass.
          const c = run(2, 43);
          const rc = ref(c.x, c.cont, rb.finals.map((s, j) => [...s, ...ra.finals[j]!.slice(H)]), p, 2);
          expectClose(c.out, rc.out);
          // N = 3 outgrows it: zeros.
          const d = run(3, 44);
          expectClose(d.out, ref(d.x, d.cont, zeros(3), p, 3).out);
          // resetState.
          layer.setup([[T, N, D], [T, N]]);
          run(2, 45);
          (layer as RecurrentLayer).resetState();
          const e = run(2, 46);
          expectClose(e.out, ref(e.x, e.cont, zeros(2), p, 2).out);
          layer.dispose();
        });

        it(`${type}: expose_hidden gives no diff to the initial state and ignores the diffs of the final-state tops`, () => {
          const layer = recurrentLayer(type, { expose: true });
          const stateShapes = Array.from({ length: nStates }, () => [1, N, H]);
          layer.setup([[T, N, D], [T, N], ...stateShapes]);
          const bottoms = [tf.tensor(Array.from(randoms(T * N * D, 51)), [T, N, D]), tf.tensor(Array.from(CONT_EXPOSED), [T, N]), ...stateShapes.map((s, j) => tf.tensor(Array.from(randoms(N * H, 52 + j)), s))];
          const tops = layer.forward(bottoms);
          const dOut = tf.tensor(Array.from(randoms(T * N * H, 55)), [T, N, H]);
          const withStateDiffs = layer.backward(bottoms, tops, [dOut, ...tops.slice(1).map((t, j) => tf.tensor(Array.from(randoms(N * H, 56 + j)), t.shape))], bottoms.map((_, i) => i !== 1));
          const without = layer.backward(bottoms, tops, [dOut, ...tops.slice(1).map((t) => tf.zerosLike(t))], bottoms.map((_, i) => i !== 1));
          expect(withStateDiffs.bottomDiffs.slice(2)).toEqual(stateShapes.map(() => null));
          expect(withStateDiffs.bottomDiffs[1]).toBeNull();
          expectClose(withStateDiffs.bottomDiffs[0]!.dataSync(), without.bottomDiffs[0]!.dataSync(), 0);
          withStateDiffs.paramDiffs.forEach((d, i) => expectClose(d!.dataSync(), without.paramDiffs[i]!.dataSync(), 0));
          layer.dispose();
        });

        it(`${type}: backpropagating to cont is refused (Caffe: "Cannot backpropagate to sequence indicators")`, () => {
          const layer = recurrentLayer(type);
          layer.setup([[T, N, D], [T, N]]);
          const bottoms = [tf.zeros([T, N, D]), tf.zeros([T, N])];
          const tops = layer.forward(bottoms);
          expect(() => layer.backward(bottoms, tops, [tf.onesLike(tops[0]!)], [true, true])).toThrow(/sequence continuation indicators/);
          expect(layer.allowForceBackward(0)).toBe(true);
          expect(layer.allowForceBackward(1)).toBe(false);
          layer.dispose();
        });

        it(`${type}: forward + backward leak no tensors (beyond the carried state)`, () => {
          const layer = recurrentLayer(type, { staticInput: true });
          layer.setup([[T, N, D], [T, N], [N, Ds]]);
          const bottoms = [tf.tensor(Array.from(randoms(T * N * D, 61)), [T, N, D]), tf.tensor(Array.from(CONT_RESET), [T, N]), tf.ones([N, Ds])];
          const cycle = () => {
            const tops = layer.forward(bottoms);
            const dOut = tf.onesLike(tops[0]!);
            const g = layer.backward(bottoms, tops, [dOut], [true, false, true]);
            expect(g.bottomDiffs[2]!.shape).toEqual([N, Ds]);
            tf.dispose([...tops, dOut, ...g.bottomDiffs.filter((d): d is tf.Tensor => !!d), ...g.paramDiffs.filter((d): d is tf.Tensor => !!d)]);
          };
          cycle();
          const before = tf.memory().numTensors;
          cycle();
          cycle();
          expect(tf.memory().numTensors).toBe(before);
          layer.dispose();
          tf.dispose(bottoms);
        });
      }

      it('LSTM in a net with force_backward: x and parameters get diffs, cont and the exposed initial states none', () => {
        const text = `force_backward: true
layer { name: "in" type: "Input" top: "x" top: "cont" top: "h0" top: "c0"
  input_param { shape { dim: ${T} dim: ${N} dim: ${D} } shape { dim: ${T} dim: ${N} } shape { dim: 1 dim: ${N} dim: ${H} } shape { dim: 1 dim: ${N} dim: ${H} } } }
layer { name: "lstm" type: "LSTM" bottom: "x" bottom: "cont" bottom: "h0" bottom: "c0" top: "h" top: "hT" top: "cT"
  recurrent_param { num_output: ${H} expose_hidden: true ${FILLERS} } }`;
        const net = new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase: Phase.TRAIN, seed: 3 });
        net.setInput('x', tf.tensor(Array.from(randoms(T * N * D, 71)), [T, N, D]));
        net.setInput('cont', tf.tensor(Array.from(CONT_EXPOSED), [T, N]));
        net.setInput('h0', tf.tensor(Array.from(randoms(N * H, 72)), [1, N, H]));
        net.setInput('c0', tf.tensor(Array.from(randoms(N * H, 73)), [1, N, H]));
        net.forward();
        expect(net.blobShape('hT')).toEqual([1, N, H]);
        net.setTopDiff('h', tf.ones([T, N, H]));
        net.backward();
        expect(net.blobDiff('x')?.shape).toEqual([T, N, D]);
        expect(net.blobDiff('cont')).toBeUndefined();
        expect(net.blobDiff('h0')).toBeUndefined();
        expect(net.blobDiff('c0')).toBeUndefined();
        for (let i = 0; i < 3; i++) expect(net.paramDiff('lstm', i)?.shape).toEqual(net.layer('lstm').blobs[i]!.shape);
        net.dispose();
      });
    });

    describe('configuration errors', () => {
      const setupError = (l: Layer, shapes: number[][]): string => {
        try {
          l.setup(shapes);
        } catch (e) {
          expect(e).toBeInstanceOf(KdnetError);
          return (e as Error).message;
        }
        throw new Error('setup did not throw');
      };

      it('num_output must be set', () => {
        const l = makeLayer('name: "r" type: "LSTM" bottom: "x" bottom: "cont" top: "h" recurrent_param { }');
        expect(setupError(l, [[T, N, D], [T, N]])).toMatch(/num_output must be positive/);
      });

      it('x needs (T, N, ...) axes and cont must be T × N', () => {
        expect(setupError(recurrentLayer('RNN'), [[T], [T, N]])).toMatch(/at least 2 axes/);
        expect(setupError(recurrentLayer('RNN'), [[T, N, D], [T, N + 1]])).toMatch(/cont\) must have shape \[T, N\] = \[3, 2\]/);
        expect(setupError(recurrentLayer('LSTM'), [[T, N, D], [T, N, 1]])).toMatch(/cont/);
        expect(setupError(recurrentLayer('LSTM'), [[0, N, D], [0, N]])).toMatch(/at least one timestep/);
      });

      it('the static input needs one row per stream', () => {
        expect(setupError(recurrentLayer('LSTM', { staticInput: true }), [[T, N, D], [T, N], [N + 1, Ds]])).toMatch(/static input\) must have N = 2/);
      });

      it('expose_hidden states must be 1 × N × H', () => {
        expect(setupError(recurrentLayer('LSTM', { expose: true }), [[T, N, D], [T, N], [1, N, H], [N, H]])).toMatch(/c_0, initial state\) must have shape \[1, 2, 4\]/);
        expect(setupError(recurrentLayer('RNN', { expose: true }), [[T, N, D], [T, N], [1, N, H + 1]])).toMatch(/h_0/);
        expect(recurrentLayer('LSTM', { expose: true }).bottomCount()).toEqual([4, 5]);
        expect(recurrentLayer('LSTM', { expose: true }).topCount()).toEqual([3, 3]);
        expect(recurrentLayer('RNN').bottomCount()).toEqual([2, 3]);
        expect(recurrentLayer('RNN').topCount()).toEqual([1, 1]);
      });

      it('T and the step size are fixed after the first set-up; N may change', () => {
        const l = recurrentLayer('LSTM');
        l.setup([[T, N, D], [T, N]]);
        expect(l.setup([[T, N + 3, D], [T, N + 3]])).toEqual([[T, N + 3, H]]);
        expect(setupError(l, [[T + 1, N, D], [T + 1, N]])).toMatch(/number of timesteps of x changed from 3 to 4/);
        expect(setupError(l, [[T, N, D + 1], [T, N]])).toMatch(/4 features per step but the layer was set up with 3/);
        l.dispose();
      });

      it('a net rejects a recurrent layer with the wrong number of bottoms for expose_hidden', () => {
        const text = `layer { name: "in" type: "Input" top: "x" top: "cont" input_param { shape { dim: 3 dim: 2 dim: 3 } shape { dim: 3 dim: 2 } } }
layer { name: "lstm" type: "LSTM" bottom: "x" bottom: "cont" top: "h" top: "hT" top: "cT" recurrent_param { num_output: 4 expose_hidden: true } }`;
        expect(() => new Net(parseCaffeText(text, 'NetParameter', 'net.prototxt').message, { phase: Phase.TRAIN, seed: 1 })).toThrow(/LSTM takes 4 to 5 bottom blob\(s\), got 2/);
      });

      it('LSTMUnit checks its three bottoms', () => {
        expect(setupError(lstmUnit(), [[1, N, H], [1, N, 4 * H + 1], [1, N]])).toMatch(/4H = 16 gate pre-activations/);
        expect(setupError(lstmUnit(), [[1, N, H], [1, N, 4 * H], [1, N, 1]])).toMatch(/bottom\[2\] \(cont\) must have shape \[1, N\]/);
        expect(setupError(lstmUnit(), [[2, N, H], [2, N, 4 * H], [2, N]])).toMatch(/bottom\[0\] \(c_prev\)/);
        expect(setupError(lstmUnit(), [[1, N, H], [1, N + 1, 4 * H], [1, N]])).toMatch(/bottom\[1\] \(x\)/);
        const l = lstmUnit();
        expect(l.setup([[1, N, H], [1, N, 4 * H], [1, N]])).toEqual([[1, N, H], [1, N, H]]);
        expect(l.allowForceBackward(2)).toBe(false);
        const bottoms = [tf.zeros([1, N, H]), tf.zeros([1, N, 4 * H]), tf.ones([1, N])];
        const tops = l.forward(bottoms);
        expect(() => l.backward(bottoms, tops, tops, [true, true, true])).toThrow(/sequence continuation indicators/);
        tf.dispose([...bottoms, ...tops]);
      });
    });
  });
}
