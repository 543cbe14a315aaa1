// What the benches that compare kdnet with a peer (train-step: PyTorch, forward: OpenCV) share: the kernel
// sets timed in one process, medians, the Markdown table, the machine and its load, and bench/results/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeKernels } from '../dist/backend/native/kernel-set.js';

const results = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Warm-up before timing, the same rule for kdnet and the peers (bench/torch_peer.py, bench/opencv_peer.py take
 * these two numbers): at least `seconds` AND at least `iterations` runs. Small nets need it: LeNet b1's forward
 * took 0.60 ms after 5 warm-up runs and 0.33 ms after 5,000 (V8's JIT and tfjs' caches settle slowly).
 */
export const WARMUP = { seconds: 1, iterations: 50 };
export const WARMUP_RULE = `warm-up ≥ ${WARMUP.seconds} s and ≥ ${WARMUP.iterations} runs`;

/** Runs `run` until the warm-up rule is met; returns how many runs it took. */
export async function warmUp(run: () => unknown): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (n < WARMUP.iterations || performance.now() - start < WARMUP.seconds * 1000) {
    await run();
    n++;
  }
  return n;
}

/** Runs `time` with the native kernels installed, then on pure wasm ('wasm' only when none are built). */
export async function forEachKernelSet(time: (variant: string) => Promise<void>): Promise<void> {
  const native = nativeKernels().filter((k) => k.installed);
  try {
    for (const variant of native.length ? ['native', 'wasm'] : ['wasm']) {
      for (const k of native) (variant === 'wasm' ? k.uninstall() : k.install());
      await time(variant);
    }
  } finally {
    for (const k of native) k.install();
  }
}

export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The machine and its load average before (given) and now: on 2 cores, anything above ~0.5 is another process. */
export function machineInfo(loadBefore: number[]) {
  return {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageBefore: loadBefore.map((l) => +l.toFixed(2)),
    loadAverageAfter: os.loadavg().map((l) => +l.toFixed(2)),
  };
}

/** bench/results/NAME.json and NAME.md. */
export function writeResults(name: string, json: object, markdown: string): void {
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(path.join(results, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  fs.writeFileSync(path.join(results, `${name}.md`), markdown);
}
