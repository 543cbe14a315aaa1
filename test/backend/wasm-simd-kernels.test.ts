// kdnet's wasm SIMD kernels (MaxPoolGrad, Transpose): bitwise equal to their references on many shapes, on
// tfjs' single-threaded wasm build here and on its threaded build in a child process.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select.js';
import { heapModule } from '../../src/backend/kernels/wasm-heap.js';
import { poolGradModuleBytes } from '../../src/backend/kernels/max-pool-grad-module.js';
import { poolGradMismatches, POOL_CASES } from '../support/wasm-kernel-checks.js';
import { cliFromSource, projectRequire } from '../support/cli-process.js';
import { projectRoot } from '../support/shared.js';

beforeAll(async () => {
  await initBackend('wasm', true);
});

describe('MaxPoolGrad by the wasm SIMD module', () => {
  it('assembles and runs over the single-threaded build\'s memory', () => {
    expect(heapModule(tf.backend(), 'max-pool-grad', poolGradModuleBytes)).toBeDefined();
  });

  it(`equals scatterToFirstMax bitwise on ${POOL_CASES.length} geometries, with and without the maxima`, () => {
    expect(poolGradMismatches()).toEqual([]);
  });

  it('falls back to the JavaScript loop with KDNET_WASM_KERNELS=0, with the same results', () => {
    process.env.KDNET_WASM_KERNELS = '0';
    try {
      expect(poolGradMismatches()).toEqual([]);
    } finally {
      delete process.env.KDNET_WASM_KERNELS;
    }
  });
});

describe('on tfjs\' threaded wasm build (KDNET_NATIVE=0, OMP_NUM_THREADS=2)', () => {
  it('the same checks pass in a child process over the shared memory', () => {
    void cliFromSource;
    const tsx = projectRequire.resolve('tsx');
    const r = spawnSync(process.execPath, ['--import', new URL(`file://${tsx}`).href, path.join(projectRoot, 'test', 'support', 'wasm-kernels-child.ts')], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, KDNET_NATIVE: '0', OMP_NUM_THREADS: '2' },
    });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; shared: boolean; modules: boolean; mismatches: string[] };
    expect(report).toEqual({ threads: 2, shared: true, modules: true, mismatches: [] });
  });
});
