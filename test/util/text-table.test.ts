// The layer table of `kdnet check` for nets far larger than any real one: column widths come from a loop, not
// from spreading every row into Math.max (which overflows the stack past ~120,000 arguments).
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/util/text-table.js';
import { formatCheckReport } from '../../src/cli/check.js';
import type { NetCheck } from '../../src/net/check.js';

describe('formatTable', () => {
  it('aligns columns to the widest cell', () => {
    expect(formatTable(['a', 'bb'], [['xxx', 'y'], ['z', 'w']])).toBe('a    bb\nxxx  y\nz    w\n');
  });

  it('right-aligns the columns asked for (numbers)', () => {
    expect(formatTable(['name', 'n', 'note'], [['a', '1,000', 'x'], ['bb', '7', '']], new Set([1]))).toBe('name      n  note\na     1,000  x\nbb        7\n');
  });

  it('formats the layer table of a 200,000-layer net', () => {
    const layers: NetCheck['layers'] = Array.from({ length: 200_000 }, (_, i) => ({
      index: i,
      name: `relu${i}`,
      type: 'ReLU',
      bottoms: ['x'],
      tops: ['x'],
      phases: 'both' as const,
      known: true,
      runnable: true,
      topShapes: [[1, 2]],
      params: 0,
      flops: 2,
    }));
    const report: NetCheck = {
      kind: 'NetParameter', file: 'big.prototxt', name: 'big', format: 'V2', upgrades: [], warnings: [], layers,
      unknownTypes: new Map(), totals: [{ phase: 'TRAIN', params: 0, flops: 400_000, complete: true }], errors: [],
    };
    const lines = formatCheckReport(report).split('\n');
    expect(lines[2]).toBe('200000 layers');
    expect(lines[3]).toBe('#       name        type  bottoms  tops  phase  top shapes  params  MFLOPs');
    expect(lines.at(-3)).toBe('199999  relu199999  ReLU  x        x     both   1x2         -       0.000');
  });
});
