// Child process for test/backend/wasm-threads.test.ts: three SGD steps of a small LeNet-like net on the pure-wasm
// path with whatever thread count the environment asks for; prints the kernel-set line, the losses and every
// trained parameter's float32 bit patterns as one JSON line.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { kernelSet } from '../../src/backend/native/kernel-set.js';
import { Solver, newSolverParameter } from '../../src/solvers/solver.js';
import { parseCaffeText } from '../../src/proto/text.js';
import { setLogSink } from '../../src/log.js';
import { Rng } from '../../src/util/rng.js';

setLogSink(() => {});
await initBackend('wasm', true);
const net = parseCaffeText(`
  layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 16 dim: 3 dim: 20 dim: 20 } } }
  layer { name: "y" type: "Input" top: "y" input_param { shape { dim: 16 } } }
  layer { name: "conv1" type: "Convolution" bottom: "x" top: "c1" convolution_param { num_output: 12 kernel_size: 5 pad: 2 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
  layer { name: "pool1" type: "Pooling" bottom: "c1" top: "p1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
  layer { name: "relu1" type: "ReLU" bottom: "p1" top: "p1" }
  layer { name: "conv2" type: "Convolution" bottom: "p1" top: "c2" convolution_param { num_output: 16 kernel_size: 3 weight_filler { type: "xavier" } } }
  layer { name: "pool2" type: "Pooling" bottom: "c2" top: "p2" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
  layer { name: "ip1" type: "InnerProduct" bottom: "p2" top: "h" inner_product_param { num_output: 64 weight_filler { type: "xavier" } } }
  layer { name: "relu2" type: "ReLU" bottom: "h" top: "h" }
  layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "z" inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "z" bottom: "y" top: "loss" }`, 'NetParameter').message;
const solver = new Solver(newSolverParameter({ net_param: net, base_lr: 0.05, momentum: 0.9, weight_decay: 0.001, lr_policy: 'fixed', max_iter: 100, display: 0, snapshot_after_train: false, random_seed: 5 }));
const r = new Rng(7);
solver.net.setInput('x', tf.tensor(Array.from({ length: 16 * 3 * 20 * 20 }, () => r.normal()), [16, 3, 20, 20]));
solver.net.setInput('y', tf.tensor(Array.from({ length: 16 }, (_, i) => i % 10)));
const losses: number[] = [];
for (let i = 0; i < 3; i++) {
  await solver.step(1);
  losses.push(solver.smoothed);
}
const params = solver.net.learnableParams.map((p) => Array.from(new Uint32Array(new Float32Array(p.tensor.dataSync()).buffer)));
console.log(JSON.stringify({ kernels: kernelSet().description, threads: kernelSet().threads, losses, params, tensors: tf.memory().numTensors }));
solver.dispose();
