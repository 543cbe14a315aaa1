// Where a training step's time goes, per phase (forward, backward, solver update) and per tfjs kernel:
// `npx tsx bench/step-profile.ts [NET] [ITERATIONS] [--shapes KERNEL] [--type SOLVER]` with NET one of
// ../shared/fixtures/timing (default lenet_b64); --shapes lists KERNEL's calls by input shapes; --type picks
// the solver (default SGD). Kernel times are self times (a kernel that calls other kernels, like the BatchMatMul workaround
// calling Transpose, is charged only for its own work); "outside kernels" is the phase's wall time minus its
// kernels' time: JavaScript dispatch, tensor bookkeeping, host-side label work. Run with KDNET_NATIVE=0 for
// pure wasm. Build first (`npm run build`): it imports dist/.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/backend/select.js';
import { kernelSet } from '../dist/backend/native/kernel-set.js';
import { takeOption, timingSolver } from './timing-solver.js';
import { setLogSink } from '../dist/log.js';

const args = process.argv.slice(2);
/** With --shapes KERNEL: that kernel's calls are also listed by input shapes. */
const shapesOf = takeOption(args, '--shapes');
/** With --type TYPE: that solver type (default SGD; momentum 0 for AdaGrad and RMSProp, as Caffe requires). */
const type = takeOption(args, '--type') ?? 'SGD';
const net = args[0] ?? 'lenet_b64';
const iterations = Number(args[1] ?? 20);

/** Kernels that do the arithmetic a step needs; everything else is layout, bookkeeping or cheap elementwise work. */
const ARITHMETIC = new Set(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', '_FusedMatMul', 'FusedConv2D', 'MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad']);

interface KernelRecord {
  name: string;
  depth: number;
  ms: number;
  inputShapes: number[][];
}

/** Runs fn under tf.profile and returns its kernels with self times, and the wall time. */
async function profiled(fn: () => void): Promise<{ kernels: KernelRecord[]; wallMs: number }> {
  const engine = tf.engine() as unknown as { state: { kernelDepth: number; activeProfile: { kernels: Array<Record<string, unknown>> } } };
  let wallMs = 0;
  const info = await tf.profile(() => {
    // A kernel's record is pushed after it ran, when the engine's depth is back at its caller's level.
    const list = engine.state.activeProfile.kernels;
    const push = list.push.bind(list);
    list.push = (...items) => push(...items.map((k) => Object.assign(k, { depth: engine.state.kernelDepth })));
    const t0 = performance.now();
    fn();
    wallMs = performance.now() - t0;
    return [];
  });
  const out: KernelRecord[] = [];
  // Children finish before their parent: subtract each finished child's time from the parent that follows.
  const childTime: number[] = [];
  for (const k of info.kernels as unknown as Array<{ name: string; depth: number; kernelTimeMs: number; inputShapes: number[][] }>) {
    const children = childTime[k.depth + 1] ?? 0;
    childTime[k.depth + 1] = 0;
    childTime[k.depth] = (childTime[k.depth] ?? 0) + k.kernelTimeMs;
    out.push({ name: k.name, depth: k.depth, ms: k.kernelTimeMs - children, inputShapes: k.inputShapes });
  }
  return { kernels: out, wallMs };
}

type Phase = 'forward' | 'backward' | 'update';

async function main(): Promise<void> {
  setLogSink(() => {});
  await initBackend('wasm', true);
  const solver = await timingSolver(net, type);
  // Plain steps first: the wall time without profiling.
  const plain: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await solver.step(1);
    plain.push(performance.now() - t0);
  }
  const update = (solver as unknown as { applyUpdate(displaying: boolean): void }).applyUpdate.bind(solver);
  const byPhase: Record<Phase, { wall: number; kernels: Map<string, { n: number; ms: number }>; shapes: Map<string, { n: number; ms: number }> }> = {
    forward: { wall: 0, kernels: new Map(), shapes: new Map() },
    backward: { wall: 0, kernels: new Map(), shapes: new Map() },
    update: { wall: 0, kernels: new Map(), shapes: new Map() },
  };
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < iterations; i++) {
    solver.net.clearParamDiffs();
    const steps: Array<[Phase, () => void]> = [
      ['forward', () => void solver.net.forward()],
      ['backward', () => solver.net.backward()],
      ['update', () => update(false)],
    ];
    for (const [phase, fn] of steps) {
      const r = await profiled(fn);
      byPhase[phase].wall += r.wallMs;
      for (const k of r.kernels) {
        const e = byPhase[phase].kernels.get(k.name) ?? { n: 0, ms: 0 };
        e.n++;
        e.ms += k.ms;
        byPhase[phase].kernels.set(k.name, e);
        if (k.name === shapesOf) {
          const key = k.inputShapes.map((sh) => `[${sh?.join('×') ?? ''}]`).join(' ');
          const s = byPhase[phase].shapes.get(key) ?? { n: 0, ms: 0 };
          s.n++;
          s.ms += k.ms;
          byPhase[phase].shapes.set(key, s);
        }
      }
    }
    solver.iter++;
  }
  const median = [...plain].sort((a, b) => a - b)[Math.floor(plain.length / 2)]!;
  console.log(`${net}, ${type}: ${kernelSet().description}; Solver.step(1) median ${median.toFixed(1)} ms over ${iterations} (unprofiled); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`tensors alive after the profiled steps: ${tf.memory().numTensors - tensorsBefore >= 0 ? '+' : ''}${tf.memory().numTensors - tensorsBefore}`);
  let arithmetic = 0;
  let other = 0;
  let outside = 0;
  for (const phase of ['forward', 'backward', 'update'] as Phase[]) {
    const p = byPhase[phase];
    const rows = [...p.kernels.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const kernelMs = rows.reduce((s, [, e]) => s + e.ms, 0) / iterations;
    const wall = p.wall / iterations;
    console.log(`\n${phase}: ${wall.toFixed(2)} ms a step (profiled), kernels ${kernelMs.toFixed(2)} ms, outside kernels ${(wall - kernelMs).toFixed(2)} ms`);
    console.log(`  ${'kernel'.padEnd(24)} ${'calls'.padStart(6)} ${'ms/step'.padStart(8)}`);
    for (const [name, e] of rows) {
      console.log(`  ${name.padEnd(24)} ${(e.n / iterations).toFixed(0).padStart(6)} ${(e.ms / iterations).toFixed(3).padStart(8)}${ARITHMETIC.has(name) ? '  *' : ''}`);
      if (ARITHMETIC.has(name)) arithmetic += e.ms / iterations;
      else other += e.ms / iterations;
    }
    for (const [key, e] of [...p.shapes.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
      console.log(`    ${shapesOf} ${key}: ${(e.n / iterations).toFixed(0)} a step, ${(e.ms / iterations).toFixed(3)} ms`);
    }
    outside += wall - kernelMs;
  }
  console.log(`\nper step: arithmetic kernels (*) ${arithmetic.toFixed(2)} ms, other kernels ${other.toFixed(2)} ms, outside kernels ${outside.toFixed(2)} ms`);
  solver.dispose();
}

await main();
