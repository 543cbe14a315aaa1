// Net::Reshape against real Caffe: every golden layer case, built with its Input layers declaring another size
// than the data it is then fed, must be reshaped by that data to exactly the case's Caffe numbers, forward and
// backward. Two variants: another batch size (every layer family), and another height and width (the cases
// whose parameters do not depend on the spatial size).
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureCases, missingLayerTypes, runFixtureCase, type FixtureCase } from '../support/fixtures.js';
import { hasFixtures } from '../support/shared.js';
import { initBackend } from '../../src/backend/select.js';
import { KdnetError } from '../../src/errors.js';

/** Layers whose first Input axis is time, not batch (Caffe unrolls them for a fixed T): no batch variant. */
const TIME_MAJOR = /lstm|rnn/i;

/**
 * Cases the declared size makes invalid, as in Caffe: the net at that size is refused (a KdnetError, not
 * wrong numbers). A Parameter layer's blob does not follow the inputs; InnerProduct weights on a 4-D input
 * depend on H×W; Slice's equal split and Reshape's explicit dims need the original width; a 3-D label does
 * not grow with the 4-D prediction.
 */
const REFUSED: Record<string, RegExp> = {
  'batch + 2': /^kd_/,
  'H + 3, W + 2': /^(kd_T4_spatial|kd_T2_batchsize$|ip_basic$|ip_axis2$|ip_nobias$|slice_equal$|reshape_axis_numaxes$|accuracy_spatial$)/,
};

const VARIANTS: Array<{ name: string; shape: (s: number[]) => number[]; applies: (c: FixtureCase) => boolean }> = [
  { name: 'batch + 2', shape: (s) => (s.length ? [s[0]! + 2, ...s.slice(1)] : s), applies: (c) => !TIME_MAJOR.test(c.name) },
  { name: 'H + 3, W + 2', shape: (s) => (s.length === 4 ? [s[0]!, s[1]!, s[2]! + 3, s[3]! + 2] : s), applies: () => true },
];

describe.skipIf(!hasFixtures)('golden Caffe cases declared at another size and reshaped by their inputs', () => {
  beforeAll(async () => {
    await initBackend('cpu', true);
  });
  // Dropout's TRAIN mask comes from Caffe's RNG (checked structurally in test/layers/neuron).
  const cases = fixtureCases('layer').filter((c) => c.status !== 'expected_failure' && c.name !== 'dropout_train');
  for (const v of VARIANTS) {
    for (const c of cases.filter((x) => v.applies(x))) {
      const missing = hasFixtures ? missingLayerTypes(c) : [];
      const refused = REFUSED[v.name]!.test(c.name);
      (missing.length ? it.skip : it)(`${v.name}: ${c.name}${refused ? ' (refused at that size)' : ''}`, () => {
        if (refused) {
          expect(() => runFixtureCase(c, { declaredShape: v.shape })).toThrow(KdnetError);
          return;
        }
        const bad = runFixtureCase(c, { declaredShape: v.shape }).filter((r) => !r.ok);
        expect(bad.map((r) => `${r.what}: max |diff| ${r.maxAbsDiff} ${r.detail ?? ''}`)).toEqual([]);
      });
    }
  }
});
