// 20,000 mutations of real files (byte flips, cuts, deleted or doubled tokens, splices of two files, deep
// nesting, huge numbers, unicode and NUL bytes, odd values, dropped lines) through what `kdnet check` runs,
// with a fixed seed. A mutation either reads or gives a KdnetError whose every line says where; anything else
// is a bug, sorted by the module that threw it. What reads prints back to the same message. Per-case time is
// measured: nothing may hang.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { corpusEntries, projectRoot } from '../support/shared.js';
import { checkBackend, checkLikeCli, describeInternal, isFrontEnd, originOf, scratchDir, unplaced } from '../support/check-path.js';
import { prototxtLexer } from '../../src/prototxt/lexer.js';
import { KdnetError } from '../../src/errors.js';
import { loadCaffeFile } from '../../src/proto/load.js';
import { parseCaffeText, printCaffeText } from '../../src/proto/text.js';
import { messagesEqual } from '../../src/prototxt/equal.js';
import { caffeType, type Message } from '../../src/proto/schema.js';
import { setLogSink } from '../../src/log.js';

const CASES = 20_000;
const SEED = 20261124;

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOISE = ['{', '}', '<', '>', '[', ']', ':', ',', ';', '"', "'", '#', '-', '.', '\\', '\n', ' ', 'x', '0', '9', 'e', '\u00e9', '\0'];
const ODD_CHARS = ['\0', '\u00e9', '\u{1F600}', '\uFEFF', '\u2028', '\ud800', '\r', '\t', '\x7f', '\u0301', '中'];
const ODD_NUMBERS = ['0', '-1', '-0', '4294967295', '4294967296', '2147483648', '-2147483649', '1e308', '1e-320', 'nan', 'inf', '3.5', '0x7fffffff', '7'];

function hugeNumber(r: () => number): string {
  const n = 20 + Math.floor(r() * 5000);
  return [`${'9'.repeat(n)}`, `1e${'9'.repeat(1 + (n % 6))}`, `-0x${'f'.repeat(n)}`, `0${'7'.repeat(n)}`, `${'1'.repeat(n)}.5`][Math.floor(r() * 5)]!;
}

/** One mutation of `text`; `other` is a second file for splices. Returns the kind and the new text. */
function mutate(text: string, other: string, r: () => number): [string, string] {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const at = () => Math.floor(r() * (text.length + 1));
  const tokens = () => prototxtLexer.tokenize(text).tokens;
  switch (Math.floor(r() * 10)) {
    case 0: {
      const chars = [...text];
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) chars[Math.floor(r() * chars.length)] = pick(NOISE);
      return ['byte flip', chars.join('')];
    }
    case 1:
      return ['cut', text.slice(0, at())];
    case 2: {
      const t = pick(tokens());
      return ['token deleted', text.slice(0, t.startOffset) + text.slice(t.startOffset + t.image.length)];
    }
    case 3: {
      const t = pick(tokens());
      const end = t.startOffset + t.image.length;
      return ['token doubled', `${text.slice(0, end)} ${t.image}${text.slice(end)}`];
    }
    case 4:
      return ['splice', text.slice(0, at()) + other.slice(Math.floor(r() * (other.length + 1)))];
    case 5: {
      const depth = 50 + Math.floor(r() * 3000);
      const open = r() < 0.5 ? '{' : '<';
      const close = open === '{' ? '}' : '>';
      const closed = r() < 0.5;
      const body = `p ${open} `.repeat(depth) + (closed ? `x: 1 ${`${close} `.repeat(depth)}` : '');
      const t = pick(tokens());
      return ['deep nesting', text.slice(0, t.startOffset) + body + text.slice(t.startOffset)];
    }
    case 6: {
      const numbers = tokens().filter((t) => /Literal$/.test(t.tokenType.name) && t.tokenType.name !== 'StringLiteral');
      if (!numbers.length) return ['huge number', `${text}\nbase_lr: ${hugeNumber(r)}`];
      const t = pick(numbers);
      return ['huge number', text.slice(0, t.startOffset) + hugeNumber(r) + text.slice(t.startOffset + t.image.length)];
    }
    case 7: {
      let out = text;
      for (let i = 0, n = 1 + Math.floor(r() * 5); i < n; i++) {
        const p = Math.floor(r() * (out.length + 1));
        out = out.slice(0, p) + pick(ODD_CHARS) + out.slice(p);
      }
      return ['unicode or NUL', out];
    }
    case 8: {
      const numbers = tokens().filter((t) => t.tokenType.name === 'IntLiteral' || t.tokenType.name === 'FloatLiteral');
      if (!numbers.length) return ['odd value', text];
      const t = pick(numbers);
      return ['odd value', text.slice(0, t.startOffset) + pick(ODD_NUMBERS) + text.slice(t.startOffset + t.image.length)];
    }
    default: {
      const lines = text.split('\n');
      lines.splice(Math.floor(r() * lines.length), 1);
      return ['line dropped', lines.join('\n')];
    }
  }
}

interface Internal {
  kind: string;
  origin: string;
  line: string;
  source: string;
  text: string;
}

describe('fuzzing what `kdnet check` runs with 20,000 mutations of real files', () => {
  const internal: Internal[] = [];
  const unpositioned: string[] = [];
  const roundTripLost: string[] = [];
  let read = 0;
  let refused = 0;
  let slowest = { ms: 0, kind: '', source: '' };

  beforeAll(async () => {
    await checkBackend();
    const sources = [
      ...['models/lenet/lenet_train_test.prototxt', 'models/lenet/lenet_solver.prototxt'].map((f) => path.join(projectRoot, f)),
      ...corpusEntries().map((e) => e.file),
    ].map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
    // `kdnet check` sets every layer up, so a net with big layers (fc6's 4096 outputs, 100 convolutions) costs
    // ~50 ms a case. Most cases mutate the light nets and the solvers; one in 25 a heavy net.
    const heavy = (text: string) => text.length > 12_000 || /num_output:\s*\d{4}/.test(text);
    const small = sources.filter((s) => !heavy(s.text));
    const large = sources.filter((s) => heavy(s.text));
    const dir = scratchDir('kdnet-fuzz-');
    const r = rng(SEED);
    const restore = setLogSink(() => {});
    try {
      for (let i = 0; i < CASES; i++) {
        const src = i % 25 === 0 && large.length ? large[i % large.length]! : small[Math.floor(r() * small.length)]!;
        const other = sources[Math.floor(r() * sources.length)]!;
        const [kind, text] = mutate(src.text, other.text, r);
        const file = path.join(dir, `case-${i % 8}${path.extname(src.file)}`);
        fs.writeFileSync(file, text);
        const t0 = performance.now();
        try {
          checkLikeCli(file);
          read++;
          // What reads also prints (as `kdnet upgrade` does) and reads back to the same message.
          const { kind: k, message } = loadCaffeFile(file);
          const again = parseCaffeText<Message>(printCaffeText(message, k), k, 'printed').message;
          if (!messagesEqual(message, again, caffeType(k))) roundTripLost.push(`${kind} of ${path.basename(src.file)}`);
        } catch (e) {
          if (e instanceof KdnetError) {
            refused++;
            for (const m of unplaced(e)) unpositioned.push(`${kind} of ${path.basename(src.file)}: ${m}`);
          } else {
            internal.push({ kind, origin: originOf(e), line: describeInternal(e), source: src.file, text });
          }
        }
        const ms = performance.now() - t0;
        if (ms > slowest.ms) slowest = { ms, kind, source: path.basename(src.file) };
      }
    } finally {
      setLogSink(restore);
    }
    const classes = new Map<string, number>();
    for (const x of internal) classes.set(errorClass(x), (classes.get(errorClass(x)) ?? 0) + 1);
    console.log(
      `fuzz: ${read} read, ${refused} refused, ${internal.length} internal errors; slowest case ${slowest.ms.toFixed(0)} ms ` +
        `(${slowest.kind} of ${slowest.source})` +
        [...classes].map(([line, n]) => `\n  ${n}× ${line}`).join(''),
    );
  }, 600_000);

  it('the text front end and the CLI never throw anything but a KdnetError', () => {
    const mine = internal.filter((x) => isFrontEnd(x.origin));
    expect(mine.map((x) => `${x.kind} of ${x.source}: ${x.line}\n${x.text.slice(0, 400)}`).slice(0, 3)).toEqual([]);
  });

  it('what reads prints back to the same message', () => {
    expect(roundTripLost.slice(0, 5), `${roundTripLost.length} lost in print`).toEqual([]);
  });

  it('every problem reported says where', () => {
    expect(unpositioned.slice(0, 5), `${unpositioned.length} problems without a place`).toEqual([]);
    expect(read + refused + internal.length).toBe(CASES);
    expect(refused).toBeGreaterThan(CASES / 4);
    expect(read).toBeGreaterThan(CASES / 20);
  });

  it('no mutated file takes anywhere near a second', () => {
    // Typical cases take a few ms; the bound is generous for a loaded machine and still catches a hang or a
    // quadratic path.
    expect(slowest.ms, `${slowest.kind} of ${slowest.source}`).toBeLessThan(5_000);
  });

  it('no stage of `kdnet check` throws anything but a KdnetError (net/layer setup included)', () => {
    const byClass = new Map<string, Internal>();
    for (const x of internal) if (!byClass.has(errorClass(x))) byClass.set(errorClass(x), x);
    expect([...byClass].map(([c, x]) => `${c} — e.g. ${x.kind} of ${path.basename(x.source)}`)).toEqual([]);
  });
});

/** An internal error's class: its line with the numbers taken out. */
function errorClass(x: Internal): string {
  return x.line.replace(/-?\d[\d.e+]*/g, 'N');
}

// The classes of internal error the fuzz finds beyond the text front end (layer setup during `kdnet check`),
// one small file each. They fail until layer setup refuses such nets with a KdnetError.
describe('`kdnet check` refuses nets whose layers cannot be set up, with a KdnetError', () => {
  const dir = scratchDir('kdnet-fuzz-classes-');
  const input = 'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n';
  const refusal = (name: string, text: string): unknown => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    try {
      checkLikeCli(file);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  beforeAll(checkBackend);

  it('a layer without the bottoms it needs (ReLU, Pooling, BatchNorm)', () => {
    for (const type of ['ReLU', 'Pooling', 'BatchNorm']) {
      const e = refusal(`${type}.prototxt`, `${input}layer { name: "l" type: "${type}" top: "y" }\n`);
      expect(e, `${type}: ${describeInternal(e)}`).toBeInstanceOf(KdnetError);
    }
  });

  it('a parameter blob too large to exist (num_output: 4294967295)', () => {
    const e = refusal('huge.prototxt', `${input}layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4294967295 } }\n`);
    expect(e, describeInternal(e)).toBeInstanceOf(KdnetError);
  });

  it('a negative dimension reaching a parameter shape (dim: -2)', () => {
    const e = refusal(
      'negative.prototxt',
      'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: -2 } } }\n' +
        'layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 10 } }\n',
    );
    expect(e, describeInternal(e)).toBeInstanceOf(KdnetError);
  });
});
