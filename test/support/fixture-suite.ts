// The golden-fixture suite for one backend (each backend runs in its own test file and process).
import { describe, expect, it, beforeAll } from 'vitest';
import { fixtureCases, runFixtureCase, missingLayerTypes } from './fixtures.js';
import { hasFixtures } from './shared.js';
import { initBackend } from '../../src/backend/select.js';
import { KdnetError } from '../../src/errors.js';

export function fixtureSuite(backend: 'cpu' | 'wasm', kinds: string[] = ['layer', 'net']): void {
  describe.skipIf(!hasFixtures)(`golden Caffe fixtures on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, true);
    });
    // Solver trajectories (lenet_sgd3) are checked by the solver suite; the Dropout mask comes from Caffe's
    // RNG and is checked structurally in test/layers/neuron.
    const elsewhere = (c: { name: string; files: string[] }) => c.files.includes('solver.prototxt') || c.name === 'dropout_train';
    for (const c of fixtureCases().filter((x) => kinds.includes(x.kind) && !elsewhere(x))) {
      const missing = hasFixtures ? missingLayerTypes(c) : [];
      // Cases whose layers kdnet does not implement yet are reported as skipped, never as passed.
      const test = missing.length ? it.skip : it;
      test(`${c.name}: ${c.what}${missing.length ? ` (needs ${missing.join(', ')})` : ''}`, () => {
        if (c.status === 'expected_failure') {
          expect(() => runFixtureCase(c), `Caffe rejects this: ${c.error}`).toThrow(KdnetError);
          return;
        }
        const results = runFixtureCase(c);
        expect(results.length).toBeGreaterThan(0);
        const bad = results.filter((r) => !r.ok);
        expect(bad.map((r) => `${r.what}: max |diff| ${r.maxAbsDiff} ${r.detail ?? ''}`)).toEqual([]);
      });
    }
  });
}
