// Memory over a long run: LeNet (batch 64) trained 2,000 iterations with the real solver loop, once with the
// native kernels and once with KDNET_NATIVE=0, each in a fresh plain `node` process (bench/train-memory-child.mjs:
// under tsx the loader alone would add ≈ 360 MB). Sampled every 50 iterations: RSS (its peak, and the values at
// iterations 1,000 and 2,000); at the end the kernel's high-water mark VmHWM (/proc/self/status). Targets:
// tensor count after warm-up vs the end within 5 %, peak RSS < 500 MB, RSS flat (1,000 vs 2,000 within 5 %).
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
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

const SAMPLE_EVERY = 50;
const WARMUP = 100;
const PEAK_LIMIT = 500e6; // bytes (500 MB)
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

interface ChildResult {
  kernels: string;
  iterPerSecond: number;
  tensors: [number, number];
  rss: Array<[number, number]>;
  vmHwm: number;
}

function trainAndSample(variant: string, iterations: number): void {
  const env = { ...process.env, ...(variant === 'wasm' ? { KDNET_NATIVE: '0' } : {}) };
  const args = [path.join(here, 'train-memory-child.mjs'), NET, String(iterations), String(WARMUP), String(SAMPLE_EVERY)];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 1_800_000 });
  const tag = `train-memory ${variant.padEnd(6)} LeNet b64 × ${iterations}`;
  if (r.status !== 0) throw new Error(`${tag}: the training process failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' / ')}`);
  const c = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
  const rss = new Map(c.rss);
  const peak = Math.max(...rss.values(), Number.isFinite(c.vmHwm) ? c.vmHwm : 0);
  const mid = rss.get(Math.round(iterations / 2 / SAMPLE_EVERY) * SAMPLE_EVERY)!;
  const end = rss.get(iterations)!;
  const [t0, t1] = c.tensors;
  const tGrowth = (t1 - t0) / t0;
  const rGrowth = (end - mid) / mid;
  const verdict = (ok: boolean) => (ok ? '  ok' : '  ABOVE TARGET');
  console.log(`${tag}: ${c.kernels.split(' (')[0]}; ${c.iterPerSecond.toFixed(1)} iter/s; RSS ${MB(rss.get(WARMUP)!)} after ${WARMUP} warm-up iterations, ${MB(mid)} at ${iterations / 2}, ${MB(end)} at ${iterations}`);
  console.log(`${tag}: tensors ${t0} → ${t1} (${(tGrowth * 100).toFixed(1)} %)   (target < 5 %)${verdict(Math.abs(tGrowth) < 0.05)}`);
  console.log(`${tag}: peak RSS ${MB(Math.max(...rss.values()))} (sampled every ${SAMPLE_EVERY}), VmHWM ${Number.isFinite(c.vmHwm) ? MB(c.vmHwm) : 'unavailable'}   (target < 500 MB)${verdict(peak < PEAK_LIMIT)}`);
  console.log(`${tag}: RSS ${MB(mid)} at ${iterations / 2} → ${MB(end)} at ${iterations} (${(rGrowth * 100).toFixed(1)} %)   (target flat: within 5 %)${verdict(Math.abs(rGrowth) <= 0.05)}`);
}

export async function benchTrainMemory(iterations = 2000): Promise<void> {
  for (const variant of ['native', 'wasm']) trainAndSample(variant, iterations);
}
