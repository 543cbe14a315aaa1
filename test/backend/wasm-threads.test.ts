// tfjs' threaded wasm build in Node (src/backend/wasm-threads.ts), used on pure wasm with more than one thread.
// Each case runs a child process: the test files themselves run with OMP_NUM_THREADS=1 (vitest.config.ts).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lastJsonLine, runCliProcess, runSupportScript } from '../support/cli-process.js';
import { projectRoot } from '../support/shared.js';
import { threadedWasmUnavailable, VERIFIED_TFJS_WASM } from '../../src/backend/wasm-threads.js';
import { updateModuleBytes } from '../../src/solvers/wasm-update-module.js';

interface StepResult {
  kernels: string;
  threads: number;
  losses: number[];
  params: number[][];
  tensors: number;
}

/** Three SGD steps of a small conv net on pure wasm with `threads` threads (test/support/wasm-step-child.ts). */
function trainInChild(threads: number): StepResult {
  const r = runSupportScript('wasm-step-child.ts', { KDNET_NATIVE: '0', OMP_NUM_THREADS: String(threads) });
  expect(r.code, r.stderr).toBe(0);
  return lastJsonLine<StepResult>(r.stdout);
}

describe("tfjs' threaded wasm build", () => {
  it('device_query says XNNPACK runs on 2 threads, and the process exits (the pool does not hold it)', () => {
    const r = runCliProcess(['device_query'], projectRoot, { KDNET_NATIVE: '0', OMP_NUM_THREADS: '2' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kernels +wasm only: turned off by KDNET_NATIVE=0; XNNPACK on 2 threads \(tfjs' threaded wasm build\), from OMP_NUM_THREADS$/m);
    expect(r.stdout).toMatch(/^threads +2 for XNNPACK's convolutions and matmuls/m);
  });

  it('one thread keeps the single-threaded build', () => {
    const r = runCliProcess(['device_query', '--threads', '1'], projectRoot, { KDNET_NATIVE: '0' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kernels +wasm only: turned off by KDNET_NATIVE=0$/m);
    expect(r.stdout).toMatch(/^threads +1 \(wasm kernels on one thread\)$/m);
  });

  it('trains bitwise the same on 2 threads as on 1 (convolution, pooling, InnerProduct, fused SGD update)', () => {
    const one = trainInChild(1);
    const two = trainInChild(2);
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.kernels).toContain('XNNPACK on 2 threads');
    expect(one.losses[0]).toBeGreaterThan(2); // ≈ ln 10 for 10 classes at the start
    expect(one.losses[2]).toBeLessThan(one.losses[0]!);
    expect(two.losses).toEqual(one.losses);
    expect(two.params).toEqual(one.params);
    expect(two.tensors).toBe(one.tensors);
  });

  // The built CLI (dist/): tsx, which runs the sources, itself needs a writable temporary folder.
  const builtCli = path.join(projectRoot, 'dist', 'cli', 'main.js');
  it.skipIf(!fs.existsSync(builtCli))('falls back to the single-threaded build, and says why, without a writable temporary folder', () => {
    const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin', 'kdnet.js'), 'device_query'], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, KDNET_NATIVE: '0', OMP_NUM_THREADS: '2', TMPDIR: '/proc/kdnet-no-such-folder' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend +wasm /m);
    expect(r.stdout).toMatch(/^kernels +wasm only: turned off by KDNET_NATIVE=0; XNNPACK on one thread: tfjs' threaded wasm build could not start \(ENOENT: .*mkdtemp '\/proc\/kdnet-no-such-folder\/kdnet-wasm-XXXXXX'\)$/m);
    expect(r.stdout).toMatch(/^threads +1 \(wasm kernels on one thread\)$/m);
  });

  it('is used only with the tfjs-backend-wasm release it was verified with', () => {
    expect(threadedWasmUnavailable(VERIFIED_TFJS_WASM)).toBeUndefined();
    expect(threadedWasmUnavailable('4.23.0')).toMatch(/tfjs-backend-wasm 4\.23\.0 is not the release .*\(4\.22\.0\)/);
  });

  it("the fused update module imports a shared memory for the threaded build's heap", () => {
    expect(WebAssembly.validate(updateModuleBytes(true))).toBe(true);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(updateModuleBytes(true)), { env: { memory: shared } })).not.toThrow();
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(updateModuleBytes(false)), { env: { memory: shared } })).toThrow();
  });
});
