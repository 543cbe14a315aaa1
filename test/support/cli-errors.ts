// What a user must see for bad input: exit 1 and exactly one `error:` line, never an internal error or a stack.
import { expect } from 'vitest';

export function expectOneError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}
