// Pooling per layer and per kernel on the LeNet (batch 64) and CIFAR-10 quick (batch 100) shapes: the Pooling
// layer's forward and backward as a net runs them (native kernel set, then with the native kernels taken
// out), and the pure-wasm MaxPoolGrad kernel on the one-channel planes the layer hands it. Median of `reps`
// calls after ≥ 1 s of warm-up per row, all in one process: wall-clock ms, and in parentheses the process's
// CPU ms per call (steadier than wall-clock on a shared machine).
//   npx tsx bench/pool.ts [reps]          KDNET_BENCH_DIST=/path/to/dist measures another build (its dist/)
// KDNET_BENCH_BASE=/path/to/other/dist adds, per MAX row, that build's wasm MaxPoolGrad kernel against this
// one's, alternating in the same process (3 rounds each).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

const dist = path.resolve(process.env.KDNET_BENCH_DIST ?? new URL('../dist', import.meta.url).pathname);
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(dist, file)).href)) as T;

interface Case {
  name: string;
  shape: [number, number, number, number];
  param: string;
}

const CASES: Case[] = [
  { name: 'LeNet pool1 MAX 2×2/2', shape: [64, 20, 24, 24], param: 'pool: MAX kernel_size: 2 stride: 2' },
  { name: 'LeNet pool2 MAX 2×2/2', shape: [64, 50, 8, 8], param: 'pool: MAX kernel_size: 2 stride: 2' },
  { name: 'CIFAR-quick pool1 MAX 3×3/2', shape: [100, 32, 32, 32], param: 'pool: MAX kernel_size: 3 stride: 2' },
  { name: 'CIFAR-quick pool2 AVE 3×3/2', shape: [100, 32, 16, 16], param: 'pool: AVE kernel_size: 3 stride: 2' },
  { name: 'CIFAR-quick pool3 AVE 3×3/2', shape: [100, 64, 8, 8], param: 'pool: AVE kernel_size: 3 stride: 2' },
];

function median(f: () => void, reps: number): string {
  const start = performance.now();
  while (performance.now() - start < 1000) f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const mid = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
  return `${mid(wall).toFixed(3)} (${mid(cpu).toFixed(2)})`;
}

async function main(): Promise<void> {
  const reps = Number(process.argv[2] ?? 30);
  const { initBackend } = await load<typeof import('../src/backend/select.js')>('backend/select.js');
  const { nativeKernels, kernelSet } = await load<typeof import('../src/backend/native/kernel-set.js')>('backend/native/kernel-set.js');
  await load('layers/vision/index.js');
  const { layerFactory } = await load<typeof import('../src/layers/registry.js')>('layers/registry.js');
  const { parseCaffeText } = await load<typeof import('../src/proto/text.js')>('proto/text.js');
  const { Rng } = await load<typeof import('../src/util/rng.js')>('util/rng.js');
  await initBackend('wasm', true);
  console.log(`dist: ${dist}\n${kernelSet().description}\nload average: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const withNative = nativeKernels().filter((k) => k.installed);
  // Another build's wasm MaxPoolGrad (its kernel file registers nothing until install()).
  type Replacement = { install(): void; uninstall(): void };
  const baseDist = process.env.KDNET_BENCH_BASE;
  const base = baseDist ? ((await import(pathToFileURL(path.join(path.resolve(baseDist), 'backend/kernels/max-pool-grad.js')).href)) as { maxPoolGradWasm: Replacement }).maxPoolGradWasm : undefined;

  for (const c of CASES) {
    const lp = parseCaffeText(`layer { name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { ${c.param} } }`, 'NetParameter').message.layer[0];
    const layer = new (layerFactory('Pooling')!)(lp, { phase: 0, rng: new Rng(1) });
    layer.setup([c.shape]);
    const x = tf.randomNormal(c.shape);
    const [y] = layer.forward([x]);
    const dy = tf.randomNormal(y!.shape);
    const fwd = () => tf.dispose(layer.forward([x]));
    const bwd = () => tf.dispose(layer.backward([x], [y!], [dy], [true]).bottomDiffs as tf.Tensor[]);
    const row: string[] = [];
    for (const native of [true, false]) {
      if (!native) for (const k of withNative) k.uninstall();
      row.push(`${native ? 'native' : 'wasm'} fwd ${median(fwd, reps)} bwd ${median(bwd, reps)}`);
      if (!native) for (const k of withNative) k.install();
    }
    if (c.param.includes('MAX')) {
      // The pure-wasm MaxPoolGrad kernel alone, on the planes the layer passes (N·C one-channel images).
      const [n, ch, h, w] = c.shape;
      const k = Number(/kernel_size: (\d+)/.exec(c.param)![1]);
      const s = Number(/stride: (\d+)/.exec(c.param)![1]);
      const [oh, ow] = y!.shape.slice(2) as [number, number];
      const pad = [[0, 0], [0, Math.max(0, (oh - 1) * s + k - h)], [0, Math.max(0, (ow - 1) * s + k - w)], [0, 0]];
      const attrs = { filterSize: [k, k], strides: [s, s], pad } as unknown as tf.NamedAttrMap;
      const planes = { dy: tf.reshape(dy, [n * ch, oh, ow, 1]), input: tf.reshape(x, [n * ch, h, w, 1]), output: tf.reshape(y!, [n * ch, oh, ow, 1]) };
      for (const kk of withNative) kk.uninstall();
      const grad = () => median(() => tf.dispose(tf.engine().runKernel('MaxPoolGrad', planes, attrs) as tf.Tensor), reps);
      row.push(`wasm MaxPoolGrad kernel ${grad()}`);
      if (base) {
        const rounds: string[] = [];
        for (let r = 0; r < 3; r++) {
          base.install();
          const before = grad();
          base.uninstall(); // back to this build's kernel
          rounds.push(`base ${before} / this ${grad()}`);
        }
        row.push(`MaxPoolGrad A/B: ${rounds.join(', ')}`);
      }
      for (const kk of withNative) kk.install();
      tf.dispose(Object.values(planes));
    }
    console.log(`${c.name} ${c.shape.join('×')}: ${row.join(' | ')}`);
    tf.dispose([x, y!, dy]);
    layer.dispose();
  }
}

await main();
