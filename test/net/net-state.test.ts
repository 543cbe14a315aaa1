// NetState rules exactly as Caffe's StateMeetsRule / FilterNet.
import { describe, expect, it } from 'vitest';
import { parseCaffeText } from '../../src/proto/text.js';
import { filterNet, stateMeetsRule, layerIncluded, Phase, composeState } from '../../src/net/net-state.js';
import { newMessage } from '../../src/proto/schema.js';
import { KdnetError } from '../../src/errors.js';

const rule = (fields: Record<string, unknown>) => newMessage('NetStateRule', fields);
const state = (phase: number, level = 0, stage: string[] = []) => ({ phase, level, stage });

describe('stateMeetsRule', () => {
  it('checks phase only when the rule sets it', () => {
    expect(stateMeetsRule(state(Phase.TRAIN), rule({}))).toBe(true);
    expect(stateMeetsRule(state(Phase.TRAIN), rule({ phase: Phase.TEST }))).toBe(false);
    expect(stateMeetsRule(state(Phase.TEST), rule({ phase: Phase.TEST }))).toBe(true);
  });
  it('checks min_level and max_level inclusively', () => {
    expect(stateMeetsRule(state(0, 2), rule({ min_level: 2 }))).toBe(true);
    expect(stateMeetsRule(state(0, 1), rule({ min_level: 2 }))).toBe(false);
    expect(stateMeetsRule(state(0, 3), rule({ max_level: 2 }))).toBe(false);
    expect(stateMeetsRule(state(0, 2), rule({ min_level: 2, max_level: 2 }))).toBe(true);
  });
  it('needs every stage and none of the not_stages', () => {
    expect(stateMeetsRule(state(0, 0, ['a', 'b']), rule({ stage: ['a', 'b'] }))).toBe(true);
    expect(stateMeetsRule(state(0, 0, ['a']), rule({ stage: ['a', 'b'] }))).toBe(false);
    expect(stateMeetsRule(state(0, 0, ['a', 'c']), rule({ stage: ['a'], not_stage: ['c'] }))).toBe(false);
    expect(stateMeetsRule(state(0, 0, ['a']), rule({ not_stage: ['c'] }))).toBe(true);
  });
});

describe('filterNet', () => {
  const net = parseCaffeText(
    `name: "n"
layer { name: "train_data" type: "Input" top: "x" include { phase: TRAIN } }
layer { name: "test_data" type: "Input" top: "x" include { phase: TEST } }
layer { name: "always" type: "ReLU" bottom: "x" top: "x" }
layer { name: "not_in_test" type: "ReLU" bottom: "x" top: "x" exclude { phase: TEST } }
layer { name: "deep" type: "ReLU" bottom: "x" top: "x" include { min_level: 1 } }
layer { name: "either" type: "ReLU" bottom: "x" top: "x" include { stage: "s1" } include { stage: "s2" } }
layer { name: "both_stages" type: "ReLU" bottom: "x" top: "x" include { stage: "s1" stage: "s2" } }
`,
    'NetParameter',
    'n.prototxt',
  ).message;
  const names = (phase: number, level = 0, stage: string[] = []) =>
    filterNet(net, { phase, level, stage }).layer.map((l: { name: string }) => l.name);

  it('keeps layers by phase, include and exclude', () => {
    expect(names(Phase.TRAIN)).toEqual(['train_data', 'always', 'not_in_test']);
    expect(names(Phase.TEST)).toEqual(['test_data', 'always']);
  });
  it('applies levels and stages (any include rule suffices; a rule needs all its stages)', () => {
    expect(names(Phase.TEST, 1)).toEqual(['test_data', 'always', 'deep']);
    expect(names(Phase.TEST, 0, ['s2'])).toEqual(['test_data', 'always', 'either']);
    expect(names(Phase.TEST, 0, ['s1', 's2'])).toEqual(['test_data', 'always', 'either', 'both_stages']);
  });
  it('records the state in the filtered net and leaves the input untouched', () => {
    const f = filterNet(net, { phase: Phase.TRAIN, level: 3, stage: ['x'] });
    expect(f.state).toMatchObject({ phase: Phase.TRAIN, level: 3, stage: ['x'] });
    expect(net.layer).toHaveLength(7);
  });
  it('rejects include and exclude on one layer', () => {
    const bad = parseCaffeText('layer { name: "l" type: "ReLU" include { phase: TRAIN } exclude { phase: TEST } }', 'NetParameter').message;
    expect(() => layerIncluded(state(Phase.TRAIN), bad.layer[0])).toThrow(KdnetError);
  });
  it('composes the file state with the caller state (stages appended)', () => {
    const s = newMessage('NetState', { level: 2, stage: ['a'] });
    expect(composeState(s, { phase: Phase.TRAIN, stage: ['b'] })).toEqual({ phase: Phase.TRAIN, level: 2, stage: ['a', 'b'] });
  });
});
