// Text that is data, not a reason to crash: nesting beyond protobuf's limit of 100 is one positioned error (no
// recursion on the input's depth anywhere), a burst of errors prints 20 of them and a count, and diagnosing
// stays linear in the input (sizes here are 10x the issue's, so a quadratic path would take minutes).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../support/shared.js';
import { parseCaffeText, printCaffeText } from '../../src/proto/text.js';
import { parseTextFormat } from '../../src/prototxt/parser.js';
import { messagesEqual } from '../../src/prototxt/equal.js';
import { caffeType, type Message } from '../../src/proto/schema.js';
import { KdnetError } from '../../src/errors.js';

const NESTING = "nesting deeper than 100 levels (protobuf's limit)";

function report(text: string): string[] {
  try {
    parseCaffeText(text, 'NetParameter', 'net.prototxt');
  } catch (e) {
    if (e instanceof KdnetError) return e.report().split('\n');
    throw e;
  }
  throw new Error('no error');
}

/** 1-based column of the n-th '{' or '<' of a one-line text. */
function nthOpener(text: string, n: number): number {
  let seen = 0;
  for (let i = 0; i < text.length; i++) if ((text[i] === '{' || text[i] === '<') && ++seen === n) return i + 1;
  throw new Error(`fewer than ${n} openers`);
}

/** A fork layer (type unknown to Caffe master, so its parameters are kept as written) nested `depth` deep. */
function forkLayer(depth: number, open = '{', close = '}'): string {
  // `layer {` is level 1 and `fork_param {` level 2; the rest are nested `p` blocks.
  return `layer { name: "f" type: "SomeFork" fork_param ${open} ${`p ${open} `.repeat(depth - 2)}x: 1 ${`${close} `.repeat(depth - 2)}${close} }`;
}

describe("protobuf's nesting limit of 100", () => {
  it('reads, prints and compares 100 levels', () => {
    for (const [open, close] of [['{', '}'], ['<', '>']] as const) {
      const text = forkLayer(100, open, close);
      const m = parseCaffeText<Message>(text, 'NetParameter', 'net.prototxt').message;
      const printed = printCaffeText(m, 'NetParameter');
      expect(printed.split('\n').filter((l) => l.trimStart().startsWith('p {'))).toHaveLength(98);
      const again = parseCaffeText<Message>(printed, 'NetParameter', 'printed').message;
      expect(messagesEqual(m, again, caffeType('NetParameter'))).toBe(true);
    }
  });

  it('refuses the 101st level at its opening, whatever the closers do', () => {
    const text = forkLayer(101);
    expect(report(text)).toEqual([`net.prototxt:1:${nthOpener(text, 101)}: ${NESTING}`]);
    // '<' counts as '{' does, closed or not.
    const angles = `layer <${' a <'.repeat(100)}`;
    expect(report(angles)).toEqual([`net.prototxt:1:${nthOpener(angles, 101)}: ${NESTING}`]);
  });

  // The issue's sizes: each overflowed the stack before.
  const cases: [string, string][] = [
    ['290 unclosed braces', `layer { name: "a" ${'include { '.repeat(290)}`],
    ['490 balanced levels', `layer { name: "a" ${'x { '.repeat(490)}${'} '.repeat(490)}}`],
    ['1,120 levels in a fork layer', forkLayer(1120)],
    ['10,000 unclosed braces', `layer { name: "a" ${'include { '.repeat(10_000)}`],
  ];
  for (const [what, text] of cases) {
    it(`${what}: one error at the 101st opening`, () => {
      expect(report(text)).toEqual([`net.prototxt:1:${nthOpener(text, 101)}: ${NESTING}`]);
    });
  }

  it('leaves nothing else to recurse on: Caffe\'s schema has no message inside itself, at most 5 deep', () => {
    const depthOf = (t: ReturnType<typeof caffeType>, path: string[]): number => {
      expect(path, `${[...path, t.fullName].join(' > ')} is recursive`).not.toContain(t.fullName);
      let deepest = 0;
      for (const f of t.fieldsArray) {
        f.resolve();
        const sub = f.resolvedType;
        if (sub && !('values' in sub)) deepest = Math.max(deepest, 1 + depthOf(sub as typeof t, [...path, t.fullName]));
      }
      return deepest;
    };
    // The binder, printer and message comparison walk messages by schema; fork fields, the only part shaped by
    // the text, are held to the nesting limit above.
    expect(depthOf(caffeType('NetParameter'), [])).toBeLessThanOrEqual(5);
    expect(depthOf(caffeType('SolverParameter'), [])).toBeLessThanOrEqual(5);
  });

  it('recovers from errors 100 levels deep with less than half the stack left', () => {
    // Error recovery at depth needs more stack than a clean parse; when it runs out, the text is read again
    // without recovery and the first error is reported. A child Node with a 450 KB stack (of 984 KB) stands for a caller
    // deep in its own stack.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-stack-'));
    const probe = path.join(dir, 'probe.mts');
    const src = (f: string) => JSON.stringify(path.join(projectRoot, 'src', f));
    fs.writeFileSync(
      probe,
      `import { parseCaffeText } from ${src('proto/text.ts')};\n` +
        `import { KdnetError } from ${src('errors.ts')};\n` +
        `const deep = (inner) => 'layer { name: "f" type: "Fork" ' + 'p { '.repeat(99) + inner + ' }'.repeat(99) + ' }';\n` +
        `for (const text of [deep('x: ] '.repeat(1000)), deep('x: 1 > '.repeat(1000)), deep('x: 1')]) {\n` +
        `  try { parseCaffeText(text, 'NetParameter', 'deep.prototxt'); console.log('read'); }\n` +
        `  catch (e) { console.log(e instanceof KdnetError ? e.report().split('\\n')[0] : 'internal: ' + e.message); }\n` +
        `}\n`,
    );
    const run = spawnSync(process.execPath, ['--stack-size=450', '--import', 'tsx', probe], { cwd: projectRoot, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual([
      expect.stringMatching(/^deep\.prototxt:1:431: /),
      expect.stringMatching(/^deep\.prototxt:1:433: /),
      'read',
      '',
    ]);
  });

  it('names the innermost unclosed brace of a truncated file at the end of the file', () => {
    const text = `layer { name: "a"\n${'  p {\n'.repeat(98)}`;
    expect(report(text)).toEqual([`net.prototxt:100:1: missing '}' to close '{' opened at 99:5; found end of file`]);
  });
});

describe('bursts of errors', () => {
  it('stops the grammar after 20 errors: a list nested 100,000 deep', () => {
    const lines = report(`a: ${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(lines).toHaveLength(21);
    expect(lines[20]).toMatch(/^net\.prototxt:1:\d+: … and maybe more: reading stopped after these syntax errors$/);
  });

  it('lists 20 lexical errors and counts the rest', () => {
    const lines = report('@ '.repeat(100_000));
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe(`net.prototxt:1:1: unexpected character '@'`);
    expect(lines[20]).toBe(`net.prototxt:1:41: … and 99980 more problems`);
  });

  it('lists 20 schema errors and counts the rest', () => {
    const lines = report('layer { name: "a" bogus: 1 }\n'.repeat(30_000));
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe(`net.prototxt:1:19: layer[0] "a".bogus: unknown field 'bogus' in LayerParameter`);
    expect(lines[20]).toBe(`net.prototxt:21:19: … and 29980 more problems`);
  });

  it('stays linear: 100,000 unclosed braces, a 100,000-deep list, 100,000 stray closers', () => {
    const inputs: [string, string][] = [
      ['100,000 unclosed braces', `layer { ${'include { '.repeat(100_000)}`],
      ['a list nested 100,000 deep', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}`],
      ['100,000 stray closers', `name: "a" ${'} '.repeat(100_000)}`],
      ['100,000 angle openers', `a ${'< '.repeat(100_000)}`],
    ];
    for (const [what, text] of inputs) {
      const t0 = performance.now();
      const { problems } = parseTextFormat(text);
      const ms = performance.now() - t0;
      console.log(`${what}: ${ms.toFixed(0)} ms, ${problems.length} problems`);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.length).toBeLessThanOrEqual(21);
      // Linear work takes well under a second even on a loaded machine; the quadratic paths took minutes.
      expect(ms, what).toBeLessThan(20_000);
    }
  });
});
