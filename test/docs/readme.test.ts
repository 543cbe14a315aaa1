import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../support/shared.js';
import { supportTable, TABLE_START, TABLE_END } from '../../src/docs/support-table.js';

const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');

describe('README.md', () => {
  it('carries the current generated support table (run `npm run readme` when this fails)', () => {
    const a = readme.indexOf(TABLE_START);
    const b = readme.indexOf(TABLE_END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a, b + TABLE_END.length)).toBe(supportTable());
  });

  it('has a quick start of exactly two command lines and names the test command', () => {
    const m = /## Quick start[\s\S]*?```(?:sh|bash)?\n([\s\S]*?)```/.exec(readme);
    expect(m).not.toBeNull();
    const commands = m![1]!.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(commands).toHaveLength(2);
    expect(commands[1]).toMatch(/npm test/);
  });
});
