// The fused SGD/Nesterov update kernel on wasm (src/solvers/fused-update.ts): bitwise the same values as the
// update rule's tfjs kernels, for every combination of decay, iter_size scale and odd lengths (the scalar
// tail after the SIMD part), special values included; inputs untouched; and the Solver takes it, one kernel
// a parameter, with bitwise unchanged training.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { fusedUpdate } from '../../src/solvers/fused-update.js';
import { sgd } from '../../src/solvers/sgd.js';
import { nesterov } from '../../src/solvers/nesterov.js';
import { Solver, newSolverParameter } from '../../src/solvers/solver.js';
import { newMessage } from '../../src/proto/schema.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { setLogSink } from '../../src/log.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng(7);
const f32 = (n: number, special = false) => {
  const a = Float32Array.from({ length: n }, () => rng.normal());
  if (special) a.set([0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3.4e38], 0);
  return a;
};
const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/** What Solver.applyUpdate computes with the rule's tfjs kernels (the path the fused update replaces). */
function reference(rule: typeof sgd, p: Float32Array, g: Float32Array, h: Float32Array, scale: number, decay: number, rate: number, momentum: number) {
  return tf.tidy(() => {
    const param = tf.tensor(p);
    let diff: tf.Tensor = tf.tensor(g);
    if (scale !== 1) diff = tf.mul(diff, scale);
    if (decay) diff = tf.add(diff, tf.mul(param, decay));
    const solver = newMessage('SolverParameter', { momentum });
    const { update, history } = rule.step(diff, [tf.tensor(h)], rate, { solver, iter: 0 });
    return { param: bits(tf.sub(param, update)), history: bits(history[0]!) };
  });
}

describe('fused SGD / Nesterov update on wasm', () => {
  let restore: ReturnType<typeof setLogSink>;
  beforeAll(async () => {
    await initBackend('wasm', true);
    restore = setLogSink(() => {});
  });
  afterAll(async () => {
    setLogSink(restore);
    await initBackend('cpu', true);
  });

  for (const [name, rule] of [['SGD', sgd], ['Nesterov', nesterov]] as const) {
    for (const decay of [0, 0.0005]) {
      for (const scale of [1, 1 / 3]) {
        for (const n of [1, 7, 8, 1027]) {
          it(`${name}, decay ${decay}, scale ${scale.toFixed(3)}, ${n} values: bitwise the tfjs kernels' result`, () => {
            const [p, g, h] = [f32(n, n > 8), f32(n, n > 8), f32(n)];
            const want = reference(rule, p, g, h, scale, decay, 0.01 * 3, 0.9);
            const [param, diff, history] = [tf.tensor(p), tf.tensor(g), tf.tensor(h)];
            const before = tf.memory().numTensors;
            const r = fusedUpdate({ rule: name, param, diff, history, scale, decay, rate: 0.01 * 3, momentum: 0.9 })!;
            expect(tf.memory().numTensors).toBe(before + 2);
            expect(bits(r.value)).toEqual(want.param);
            expect(bits(r.history[0]!)).toEqual(want.history);
            // The inputs are left as they were.
            expect([param, diff, history].map(bits)).toEqual([p, g, h].map((a) => bits(tf.tensor(a))));
            tf.dispose([param, diff, history, r.value, ...r.history]);
          });
        }
      }
    }
  }

  it('a weight multiplied before and after its update gives the new product (tfjs-wasm caches packed weights by tensor id)', () => {
    const w = tf.variable(tf.tensor(f32(12 * 5), [12, 5]));
    const x = tf.tensor(f32(3 * 12), [3, 12]);
    tf.matMul(x, w).dispose(); // w as XNNPACK's weight operand: packed and cached
    const r = fusedUpdate({ rule: 'SGD', param: w, diff: tf.onesLike(w), history: tf.zerosLike(w), scale: 1, decay: 0, rate: 0.5, momentum: 0.9 })!;
    w.assign(r.value);
    const fresh = tf.tensor(w.dataSync(), w.shape);
    expect(bits(tf.matMul(x, w))).toEqual(bits(tf.matMul(x, fresh)));
  });

  it('declines on the cpu backend', async () => {
    await tf.setBackend('cpu');
    try {
      const [param, diff, history] = [tf.ones([4]), tf.ones([4]), tf.zeros([4])];
      expect(fusedUpdate({ rule: 'SGD', param, diff, history, scale: 1, decay: 0, rate: 0.1, momentum: 0.9 })).toBeUndefined();
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
      const solver = new Solver(newSolverParameter({ net_param: net, type, base_lr: 0.1, momentum: 0.9, weight_decay: 0.01, iter_size: 2, lr_policy: 'fixed', max_iter: 100, display: 0, snapshot_after_train: false, random_seed: 3 }));
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

  for (const type of ['SGD', 'Nesterov']) {
    it(`${type} Solver: one kernel a parameter, and training gives to bitwise the same parameters`, async () => {
      const fused = await train(type, true);
      const kernels = await train(type, false);
      expect(fused.updateKernels).toEqual(['KdnetFusedUpdate', 'KdnetFusedUpdate', 'KdnetFusedUpdate', 'KdnetFusedUpdate']);
      expect(kernels.updateKernels.length).toBeGreaterThan(4 * 4);
      expect(fused.params).toEqual(kernels.params);
    });
  }
});
