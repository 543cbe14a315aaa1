// Memory over a long run: LeNet (batch 64) trained 2,000 iterations with the real solver loop; tensor count
// and RSS are sampled after warm-up and at the end. Target: each grows by less than 5 %.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { parseCaffeText } from '../dist/proto/text.js';
import { Solver } from '../dist/solvers/solver.js';
import { setLogSink } from '../dist/log.js';

const NET = `name: "LeNet"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 64 dim: 1 dim: 28 dim: 28 } } }
layer { name: "label" type: "Input" top: "label" input_param { shape { dim: 64 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: "xavier" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 50 kernel_size: 5 weight_filler { type: "xavier" } } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" inner_product_param { num_output: 500 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }`;

export async function benchTrainMemory(backend: string, iterations = 2000): Promise<void> {
  await initBackend(backend, true);
  setLogSink(() => {});
  const solver = new Solver(
    parseCaffeText(`net_param { ${NET} }\nbase_lr: 0.01\nmomentum: 0.9\nweight_decay: 0.0005\nlr_policy: "inv"\ngamma: 0.0001\npower: 0.75\nmax_iter: ${iterations}\ndisplay: 0`, 'SolverParameter').message,
  );
  solver.net.setInput('data', tf.randomUniform([64, 1, 28, 28]));
  solver.net.setInput('label', tf.floor(tf.randomUniform([64], 0, 10)));
  await solver.step(100);
  const t0 = tf.memory().numTensors;
  const rss0 = process.memoryUsage().rss;
  const start = performance.now();
  await solver.step(iterations - 100);
  const seconds = (performance.now() - start) / 1000;
  const t1 = tf.memory().numTensors;
  const rss1 = process.memoryUsage().rss;
  const tGrowth = (t1 - t0) / t0;
  const rGrowth = (rss1 - rss0) / rss0;
  const ok = tGrowth < 0.05 && rGrowth < 0.05;
  console.log(
    `train-memory ${backend.padEnd(6)} LeNet b64 × ${iterations}: tensors ${t0} → ${t1} (${(tGrowth * 100).toFixed(1)} %), RSS ${(rss0 / 2 ** 20).toFixed(0)} → ${(rss1 / 2 ** 20).toFixed(0)} MiB (${(rGrowth * 100).toFixed(1)} %), ${((iterations - 100) / seconds).toFixed(1)} iter/s   (target < 5 %)${ok ? '  ok' : '  ABOVE TARGET'}`,
  );
  solver.dispose();
}
