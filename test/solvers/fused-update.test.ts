// The fused solver update kernel on wasm (src/solvers/fused-update.ts): for every solver type, bitwise the
// same values as the update rule's tfjs kernels, for every combination of decay, iter_size scale and odd
// lengths (the scalar tail after the SIMD part), special values included; inputs untouched; and the Solver
// takes it, one kernel a parameter, with bitwise unchanged training.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { fusedUpdate } from '../../src/solvers/fused-update.js';
import { sgd } from '../../src/solvers/sgd.js';
import { nesterov } from '../../src/solvers/nesterov.js';
import { adagrad } from '../../src/solvers/adagrad.js';
import { rmsprop } from '../../src/solvers/rmsprop.js';
import { adadelta } from '../../src/solvers/adadelta.js';
import { adam } from '../../src/solvers/adam.js';
import type { UpdateRule } from '../../src/solvers/update-rule.js';
import type { FusedRule } from '../../src/solvers/wasm-update-module.js';
import { Solver, newSolverParameter } from '../../src/solvers/solver.js';
import { newMessage } from '../../src/proto/schema.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { setLogSink } from '../../src/log.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng(7);
const f32 = (n: number, special = false, positive = false) => {
  const a = Float32Array.from({ length: n }, () => (positive ? Math.abs(rng.normal()) : rng.normal()));
  if (special) a.set([0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3.4e38], 0);
  return a;
};
/** Bit patterns, every NaN as one (wasm leaves a NaN's sign and payload open). */
const bits = (t: tf.Tensor) => Array.from(t.dataSync() as Float32Array, (v) => (Number.isNaN(v) ? 'NaN' : new Uint32Array(Float32Array.of(v).buffer)[0]!));

const rules: Record<FusedRule, UpdateRule> = { SGD: sgd, Nesterov: nesterov, AdaGrad: adagrad, RMSProp: rmsprop, AdaDelta: adadelta, Adam: adam };
const solverParam = newMessage('SolverParameter', { momentum: 0.9, momentum2: 0.999, delta: 1e-6, rms_decay: 0.95 });
const ctx = { solver: solverParam, iter: 4 };

/** What Solver.applyUpdate computes with the rule's tfjs kernels (the path the fused kernel replaces). */
function reference(rule: UpdateRule, p: Float32Array, g: Float32Array, hs: Float32Array[], scale: number, decay: number, rate: number) {
  return tf.tidy(() => {
    const param = tf.tensor(p);
    let diff: tf.Tensor = tf.tensor(g);
    if (scale !== 1) diff = tf.mul(diff, scale);
    if (decay) diff = tf.add(diff, tf.mul(param, decay));
    const { update, history } = rule.step(diff, hs.map((h) => tf.tensor(h)), rate, ctx);
    return { param: bits(tf.sub(param, update)), histories: history.map(bits) };
  });
}

describe('fused solver updates on wasm', () => {
  let restore: ReturnType<typeof setLogSink>;
  beforeAll(async () => {
    await initBackend('wasm', true);
    restore = setLogSink(() => {});
  });
  afterAll(async () => {
    setLogSink(restore);
    await initBackend('cpu', true);
  });

  for (const [name, rule] of Object.entries(rules) as Array<[FusedRule, UpdateRule]>) {
    for (const decay of [0, 0.0005]) {
      for (const scale of [1, 1 / 3]) {
        for (const n of [1, 7, 8, 1027]) {
          it(`${name}, decay ${decay}, scale ${scale.toFixed(3)}, ${n} values: bitwise the tfjs kernels' result`, () => {
            // Squared-gradient histories are never negative.
            const positive = name !== 'SGD' && name !== 'Nesterov';
            const [p, g] = [f32(n, n > 8), f32(n, n > 8)];
            const hs = Array.from({ length: rule.historySets }, (_, i) => f32(n, false, positive && (name !== 'Adam' || i === 1)));
            const rate = 0.01 * 3;
            const want = reference(rule, p, g, hs, scale, decay, rate);
            const [param, diff, ...histories] = [p, g, ...hs].map((a) => tf.tensor(a));
            const before = tf.memory().numTensors;
            expect(rule.fused?.rule).toBe(name);
            const r = fusedUpdate({ rule: name, param: param!, diff: diff!, histories, scale, decay, scalars: rule.fused!.scalars(rate, ctx) })!;
            expect(tf.memory().numTensors).toBe(before + 1 + rule.historySets);
            expect(bits(r.value)).toEqual(want.param);
            expect(r.history.map(bits)).toEqual(want.histories);
            // The inputs are left as they were.
            expect([param!, diff!, ...histories].map(bits)).toEqual([p, g, ...hs].map((a) => bits(tf.tensor(a))));
            tf.dispose([param!, diff!, ...histories, r.value, ...r.history]);
          });
        }
      }
    }
  }

  it('a weight multiplied before and after its update gives the new product (tfjs-wasm caches packed weights by tensor id)', () => {
    const w = tf.variable(tf.tensor(f32(12 * 5), [12, 5]));
    const x = tf.tensor(f32(3 * 12), [3, 12]);
    tf.matMul(x, w).dispose(); // w as XNNPACK's weight operand: packed and cached
    const r = fusedUpdate({ rule: 'SGD', param: w, diff: tf.onesLike(w), histories: [tf.zerosLike(w)], scale: 1, decay: 0, scalars: [0.5, 0.9] })!;
    w.assign(r.value);
    const fresh = tf.tensor(w.dataSync(), w.shape);
    expect(bits(tf.matMul(x, w))).toEqual(bits(tf.matMul(x, fresh)));
    tf.dispose([w, x, fresh, ...r.history]);
  });

  it('declines on the cpu backend', async () => {
    await tf.setBackend('cpu');
    try {
      const [param, diff, history] = [tf.ones([4]), tf.ones([4]), tf.zeros([4])];
      expect(fusedUpdate({ rule: 'SGD', param, diff, histories: [history], scale: 1, decay: 0, scalars: [0.1, 0.9] })).toBeUndefined();
      tf.dispose([param, diff, history]);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  /** Parameters after 3 steps of a small MLP with weight decay and momentum, and the kernels the last update ran. */
  async function train(type: string, fused: boolean): Promise<{ params: number[][]; updateKernels: string[] }> {
    process.env.KDNET_FUSED_UPDATE = fused ? '1' : '0';
    try {
      const net = parseCaffeText(`
        layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 8 dim: 5 } } }
        layer { name: "y" type: "Input" top: "y" input_param { shape { dim: 8 } } }
        layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "h" inner_product_param { num_output: 7 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "constant" value: 0.1 } } }
        layer { name: "relu" type: "ReLU" bottom: "h" top: "h" }
        layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "z" param { lr_mult: 2 decay_mult: 0 } inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "z" bottom: "y" top: "loss" }`, 'NetParameter').message;
      const momentum = type === 'AdaGrad' || type === 'RMSProp' ? 0 : 0.9;
      const solver = new Solver(newSolverParameter({ net_param: net, type, base_lr: 0.1, momentum, weight_decay: 0.01, iter_size: 2, lr_policy: 'fixed', max_iter: 100, display: 0, snapshot_after_train: false, random_seed: 3 }));
      const r = new Rng(11);
      solver.net.setInput('x', tf.tensor(Array.from({ length: 40 }, () => r.normal()), [8, 5]));
      solver.net.setInput('y', tf.tensor([0, 1, 2, 0, 1, 2, 2, 1]));
      await solver.step(2);
      solver.net.clearParamDiffs();
      solver.net.forward();
      solver.net.backward();
      const profile = await tf.profile(() => (solver as unknown as { applyUpdate(d: boolean): void }).applyUpdate(false));
      const params = solver.net.learnableParams.map((p) => bits(p.tensor));
      solver.dispose();
      return { params, updateKernels: profile.kernels.map((k) => k.name) };
    } finally {
      delete process.env.KDNET_FUSED_UPDATE;
    }
  }

  for (const type of Object.keys(rules)) {
    it(`${type} Solver: one kernel a parameter, and bitwise the same trained parameters`, async () => {
      const fused = await train(type, true);
      const kernels = await train(type, false);
      expect(fused.updateKernels).toEqual(['KdnetFusedUpdate', 'KdnetFusedUpdate', 'KdnetFusedUpdate', 'KdnetFusedUpdate']);
      expect(kernels.updateKernels.length).toBeGreaterThanOrEqual(4 * 4);
      expect(fused.params).toEqual(kernels.params);
    });
  }
});
