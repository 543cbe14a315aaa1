// Thousands of random mutations of real corpus files: the front end never crashes and never hangs; every
// failure is a KdnetError whose every problem carries a file:line:column.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { corpusEntries, hasCorpus } from '../support/shared.js';
import { parseCaffeText, printCaffeText } from '../../src/proto/text.js';
import { upgradeNetParameter, upgradeSolverParameter } from '../../src/proto/upgrade/index.js';
import { prototxtLexer } from '../../src/prototxt/lexer.js';
import { KdnetError } from '../../src/errors.js';
import { setLogSink } from '../../src/log.js';

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOISE = ['{', '}', '<', '>', '[', ']', ':', ',', ';', '"', "'", '#', '-', '.', '\\', '\n', ' ', 'x', '0', '9', 'e', '\u00e9', '\0'];

function mutate(text: string, r: () => number): string {
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const kind = Math.floor(r() * 4);
  if (kind === 0) {
    // byte flips
    const chars = [...text];
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) chars[Math.floor(r() * chars.length)] = pick(NOISE);
    return chars.join('');
  }
  if (kind === 1) return text.slice(0, Math.floor(r() * text.length)); // truncation
  const tokens = prototxtLexer.tokenize(text).tokens;
  if (!tokens.length) return text;
  const t = pick(tokens);
  const start = t.startOffset;
  const end = start + t.image.length;
  if (kind === 2) return text.slice(0, start) + text.slice(end); // token deletion
  return text.slice(0, end) + ' ' + t.image + text.slice(end); // token duplication
}

describe.skipIf(!hasCorpus)('fuzzing the front end with corpus mutations', () => {
  it('never crashes, never hangs, and positions every error', () => {
    const entries = corpusEntries();
    const sources = entries.map((e) => ({
      text: fs.readFileSync(e.file, 'utf8'),
      kind: e.format.startsWith('SolverParameter') ? 'SolverParameter' : 'NetParameter',
      file: e.localPath,
    }));
    const r = rng(20261124);
    const restore = setLogSink(() => {});
    let failures = 0;
    let successes = 0;
    let slowest = 0;
    try {
      for (let i = 0; i < 3000; i++) {
        const src = sources[i % sources.length]!;
        const text = mutate(src.text, r);
        const t0 = performance.now();
        try {
          const { message } = parseCaffeText(text, src.kind, src.file);
          if (src.kind === 'NetParameter') upgradeNetParameter(message, src.file);
          else upgradeSolverParameter(message, src.file);
          printCaffeText(message, src.kind);
          successes++;
        } catch (e) {
          if (!(e instanceof KdnetError)) {
            throw new Error(`mutation ${i} of ${src.file} crashed: ${(e as Error).stack}\n--- text ---\n${text.slice(0, 2000)}`);
          }
          for (const problem of [e, ...e.others]) {
            // Every parse problem is positioned; upgrade problems name at least the layer or file.
            const w = problem.where;
            expect(w.position?.line ?? w.layer ?? w.path, `mutation ${i}: ${problem.message}`).toBeTruthy();
            if (w.position) {
              expect(w.position.line).toBeGreaterThanOrEqual(1);
              expect(w.position.column).toBeGreaterThanOrEqual(1);
            }
          }
          failures++;
        }
        slowest = Math.max(slowest, performance.now() - t0);
      }
    } finally {
      setLogSink(restore);
    }
    expect(failures + successes).toBe(3000);
    expect(failures).toBeGreaterThan(500);
    // "Never hangs": no single mutated file takes anywhere near a second.
    expect(slowest).toBeLessThan(1000);
  });
});
