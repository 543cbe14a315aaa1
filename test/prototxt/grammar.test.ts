// protobuf's TextFormat grammar, form by form: each form reads to the expected values, prints back in canonical
// form and reads again to the same message. Forms protobuf rejects are rejected here with a positioned error.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseCaffeText, printCaffeText } from '../../src/proto/text.js';
import { messagesEqual } from '../../src/prototxt/equal.js';
import { caffeType, type Message } from '../../src/proto/schema.js';
import { prototxtLexer, LCurly, RCurly } from '../../src/prototxt/lexer.js';
import { KdnetError } from '../../src/errors.js';
import { corpusEntries, projectRoot } from '../support/shared.js';

type Kind = 'NetParameter' | 'SolverParameter';

/** Reads `text`, prints it, reads the print: both messages must be equal. Returns the first. */
function roundTrip(text: string, kind: Kind = 'NetParameter'): Message {
  const message = parseCaffeText<Message>(text, kind, 'form.prototxt').message;
  const printed = printCaffeText(message, kind);
  const again = parseCaffeText<Message>(printed, kind, 'printed.prototxt').message;
  expect(messagesEqual(message, again, caffeType(kind)), printed).toBe(true);
  return message;
}

function errorOf(text: string, kind: Kind = 'NetParameter'): string {
  try {
    parseCaffeText(text, kind, 'form.prototxt');
  } catch (e) {
    if (e instanceof KdnetError) return e.report();
    throw e;
  }
  throw new Error(`no error for: ${text}`);
}

const layer = (inner: string) => `layer { name: "l" type: "ReLU" bottom: "x" top: "x" ${inner} }`;

/** `text` with every message's '{' … '}' pair rewritten as '<' … '>' where `angle(pairIndex)` says so. */
function withDelimiters(text: string, angle: (pair: number) => boolean): string {
  const chars = [...text].length === text.length ? text.split('') : null;
  if (!chars) throw new Error('test texts are UTF-16 single units');
  const open: number[] = [];
  let pair = 0;
  for (const t of prototxtLexer.tokenize(text).tokens) {
    if (t.tokenType === LCurly) open.push(t.startOffset);
    else if (t.tokenType === RCurly) {
      const start = open.pop()!;
      if (angle(pair++)) {
        chars[start] = '<';
        chars[t.startOffset] = '>';
      }
    }
  }
  return chars.join('');
}

describe('message delimiters: { } and < > for every message field at every depth', () => {
  // Files with messages nested 1 to 4 deep: current, V1 and V0 nets (solvers have no messages but nets).
  const inRepo = [path.join(projectRoot, 'models', 'lenet', 'lenet_train_test.prototxt')];
  const corpus = corpusEntries()
    .filter((e) => /^NetParameter V[01]|googlenet\/train_val/.test(`${e.format} ${e.localPath}`))
    .map((e) => e.file);
  for (const file of [...inRepo, ...corpus]) {
    it(path.relative(path.dirname(projectRoot), file), () => {
      const text = fs.readFileSync(file, 'utf8');
      const kind: Kind = /solver/.test(file) ? 'SolverParameter' : 'NetParameter';
      const braces = roundTrip(text, kind);
      // Every pair, then a mix where neighbours and parents differ in kind.
      const mixed = (pair: number) => ((Math.imul(pair + 1, 0x9e3779b1) >>> 16) & 1) === 1;
      for (const variant of [withDelimiters(text, () => true), withDelimiters(text, mixed)]) {
        expect(variant).not.toBe(text);
        expect(messagesEqual(roundTrip(variant, kind), braces, caffeType(kind))).toBe(true);
      }
    });
  }

  it('in a solver with an inline net', () => {
    const solver = 'base_lr: 0.1 net_param { name: "n" layer { name: "i" type: "Input" top: "x" input_param { shape { dim: 1 } } } } train_state { stage: "s" } test_state { level: 1 }';
    const braces = roundTrip(solver, 'SolverParameter');
    for (const variant of [withDelimiters(solver, () => true), withDelimiters(solver, (p) => p % 2 === 0)]) {
      expect(messagesEqual(roundTrip(variant, 'SolverParameter'), braces, caffeType('SolverParameter'))).toBe(true);
    }
    expect(braces.net_param.layer[0].input_param.shape[0].dim).toEqual([1]);
  });

  it('reads the issue-10 case: angle brackets on a repeated field beside braces', () => {
    const m = roundTrip(layer('param < lr_mult: 1 > param { lr_mult: 2 } param <decay_mult: 3>'));
    expect(m.layer[0].param.map((p: Message) => [p.lr_mult, p.decay_mult])).toEqual([[1, 1], [2, 1], [1, 3]]);
  });

  it('rejects a closer of the other kind, naming the opener', () => {
    expect(errorOf(layer('param < lr_mult: 1 }')).split('\n')[0]).toBe(
      `form.prototxt:1:72: missing '>' to close '<' opened at 1:59; found '}'`,
    );
    expect(errorOf(layer('param { lr_mult: 1 >')).split('\n')[0]).toBe(
      `form.prototxt:1:72: missing '}' to close '{' opened at 1:59; found '>'`,
    );
  });
});

describe('protobuf TextFormat forms', () => {
  it("takes an optional ':' before a message, in either delimiter", () => {
    const m = roundTrip('input: "data" input_shape: { dim: 1 dim: 2 } input_shape: < dim: 3 > layer: { name: "a" type: "ReLU" }');
    expect(m.input_shape.map((s: Message) => s.dim)).toEqual([[1, 2], [3]]);
    expect(m.layer[0].name).toBe('a');
  });

  it("accepts ',' and ';' after any field, at every level", () => {
    const m = roundTrip('name: "n"; layer { name: "a", type: "ReLU"; bottom: "x", top: "y"; param { lr_mult: 2; }, }, input: "x";');
    expect(m.name).toBe('n');
    expect(m.layer[0]).toMatchObject({ name: 'a', type: 'ReLU', bottom: ['x'], top: ['y'] });
    expect(m.layer[0].param[0].lr_mult).toBe(2);
  });

  it('rejects two separators in a row and separators inside a value', () => {
    expect(errorOf('name: "n";; input: "x"')).toBe(`form.prototxt:1:11: expected a field name but found ';'`);
    expect(errorOf(layer('bottom: ["a"; "b"]')).split('\n')[0]).toBe(`form.prototxt:1:65: expected ']' but found ';'`);
  });

  it('concatenates adjacent strings of both quote styles', () => {
    const m = roundTrip(`name: "co" 'nv' "1" layer { name: 'a' "b" type: "Re" "LU" }`);
    expect(m.name).toBe('conv1');
    expect(m.layer[0]).toMatchObject({ name: 'ab', type: 'ReLU' });
  });

  it('reads hex and octal integers, signed and unsigned', () => {
    const m = roundTrip(
      'layer { name: "c" type: "Convolution" convolution_param { num_output: 0x1F kernel_size: 017 kernel_size: 0 axis: -0x2 group: 0X10 } }',
    );
    expect(m.layer[0].convolution_param).toMatchObject({ num_output: 31, kernel_size: [15, 0], axis: -2, group: 16 });
  });

  it('refuses hex and octal for floats, as protobuf does, and 8 or 9 after a leading 0', () => {
    expect(errorOf(layer('loss_weight: 0x10'))).toMatch(/loss_weight\[0\]: field 'loss_weight' expects a decimal number \(float\), found '0x10'$/);
    expect(errorOf(layer('loss_weight: 010'))).toMatch(/expects a decimal number \(float\), found '010'$/);
    expect(errorOf('layer { name: "c" type: "Convolution" convolution_param { num_output: 09 } }')).toMatch(
      /expects an integer \(uint32\), found '09'$/,
    );
  });

  it("reads '-.5', '5.', '.5', exponents and the 'f' suffix", () => {
    const m = roundTrip(layer('loss_weight: -.5 loss_weight: 5. loss_weight: .25 loss_weight: 1e-3 loss_weight: -2.5E+2 loss_weight: 1.5f loss_weight: 2f loss_weight: .5F loss_weight: 1e2f loss_weight: - 3'));
    expect(m.layer[0].loss_weight).toEqual([-0.5, 5, 0.25, Math.fround(1e-3), -250, 1.5, 2, 0.5, 100, -3]);
  });

  it('reads inf, infinity and nan in any case, with or without a minus', () => {
    const m = roundTrip(layer('loss_weight: inf loss_weight: -inf loss_weight: Infinity loss_weight: -INFINITY loss_weight: nan loss_weight: NaN loss_weight: -nan loss_weight: iNf'));
    const w = m.layer[0].loss_weight as number[];
    expect(w.slice(0, 4)).toEqual([Infinity, -Infinity, Infinity, -Infinity]);
    expect(w.slice(4, 7).every(Number.isNaN)).toBe(true);
    expect(w[7]).toBe(Infinity);
    expect(errorOf(layer('loss_weight: infin'))).toMatch(/expects a number \(float\), found 'infin'$/);
  });

  it('rejects numbers run into letters, digits or dots, once each', () => {
    expect(errorOf('layer { name: "c" type: "Convolution" convolution_param { kernel_size: 3pad: 1 } }')).toBe(
      `form.prototxt:1:72: '3pad' is not a number; a space is needed between the number '3' and 'pad'`,
    );
    expect(errorOf(layer('loss_weight: 1.5.3'))).toBe(`form.prototxt:1:66: '1.5.3' is not a number`);
    expect(errorOf(layer('loss_weight: 1e'))).toBe(`form.prototxt:1:66: '1e' is not a number`);
    expect(errorOf(layer('loss_weight: 0x'))).toBe(`form.prototxt:1:66: '0x' is not a number`);
  });

  it('reads [a, b] lists of scalars, with or without spaces, mixed with single values', () => {
    const m = roundTrip('layer { name: "c" type: "Concat" bottom: ["a", "b"] bottom: "c" top: ["t"] loss_weight: [1,2 ,3] }');
    expect(m.layer[0]).toMatchObject({ bottom: ['a', 'b', 'c'], top: ['t'], loss_weight: [1, 2, 3] });
  });

  it('reads [{…}, <…>] lists of messages, with or without the colon', () => {
    const m = roundTrip(
      'layer { name: "i" type: "Input" top: "a" top: "b" input_param { shape: [{dim: 1}, <dim: 2 dim: 3>] shape [{ dim: 4 }] } }',
    );
    expect(m.layer[0].input_param.shape.map((s: Message) => s.dim)).toEqual([[1], [2, 3], [4]]);
  });

  it('reads the empty list [] for scalars and messages', () => {
    const m = roundTrip('layer { name: "i" type: "Input" top: "a" bottom: [] input_param { shape: [] shape [] } }');
    expect(m.layer[0].bottom).toEqual([]);
    expect(m.layer[0].input_param.shape).toEqual([]);
  });

  it("needs ':' before a list of scalars, the empty list included, and no trailing comma", () => {
    expect(errorOf(layer('loss_weight [1]'))).toBe(`form.prototxt:1:53: layer[0] "l".loss_weight: expected ':' between field 'loss_weight' and its value`);
    expect(errorOf(layer('loss_weight []'))).toBe(`form.prototxt:1:53: layer[0] "l".loss_weight: expected ':' between field 'loss_weight' and its value`);
    expect(errorOf(layer('loss_weight: [1,]'))).toBe(
      `form.prototxt:1:69: expected a value (number, string, identifier, '{' or '[') but found ']'`,
    );
  });

  it('reads the empty message {} and <> as set but empty', () => {
    const m = roundTrip(layer('relu_param {} include <>'));
    expect(Object.prototype.hasOwnProperty.call(m.layer[0], 'relu_param')).toBe(true);
    expect(m.layer[0].relu_param.negative_slope).toBe(0);
    expect(m.layer[0].include).toHaveLength(1);
    expect(printCaffeText(m, 'NetParameter')).toContain('  relu_param {\n  }\n');
  });

  it("reads '#' comments anywhere, up to an end of file without a newline", () => {
    const text = [
      '# head',
      'layer # after a name',
      '{ # after an opener',
      '  name # between name and colon',
      '  : # between colon and value',
      '  "a" # after a value',
      '  type: "Concat" bottom: [ # in a list',
      '    "x" # before a comma',
      '    , "y" ] # after a list',
      '  top: "z" "#not a comment" ',
      '} # at the end, no newline',
    ].join('\n');
    const m = roundTrip(text);
    expect(m.layer[0]).toMatchObject({ name: 'a', bottom: ['x', 'y'], top: ['z#not a comment'] });
    expect(roundTrip('name: "n" #')).toMatchObject({ name: 'n' });
    expect(messagesEqual(roundTrip('#only a comment'), parseCaffeText('', 'NetParameter').message, caffeType('NetParameter'))).toBe(true);
  });

  it('decodes every string escape protobuf knows', () => {
    const escapes: [string, string][] = [
      ['\\n', '\n'], ['\\t', '\t'], ['\\r', '\r'], ['\\\\', '\\'], ["\\'", "'"], ['\\"', '"'], ['\\a', '\x07'], ['\\b', '\b'],
      ['\\f', '\f'], ['\\v', '\v'], ['\\?', '?'], ['\\101', 'A'], ['\\0', '\0'], ['\\12', '\n'], ['\\1012', 'A2'],
      ['\\x41', 'A'], ['\\X4a', 'J'], ['\\x4', '\x04'], ['\\x414', 'A4'], ['\\u00e9', 'é'], ['\\u4e2d', '中'],
      ['\\U0001F600', '😀'], ['\\ud83d\\ude00', '😀'], ['\\U0010FFFF', '\u{10FFFF}'], ['é', 'é'],
    ];
    for (const [written, meant] of escapes) {
      const m = roundTrip(`name: "<${written}>"`);
      expect(m.name, written).toBe(`<${meant}>`);
    }
    expect(roundTrip(`name: '\\'"'`).name).toBe(`'"`);
  });

  it('rejects malformed escapes at their column', () => {
    expect(errorOf('name: "a\\qb"')).toBe(`form.prototxt:1:9: invalid escape sequence '\\q'`);
    expect(errorOf('name: "a\\x"')).toBe(`form.prototxt:1:9: \\x needs hex digits`);
    expect(errorOf('name: "a\\u12"')).toBe(`form.prototxt:1:9: \\u needs 4 hex digits`);
    expect(errorOf('name: "a\\U00110000"')).toBe(`form.prototxt:1:9: \\U00110000 is beyond Unicode's last code point 10FFFF`);
  });

  it('reads bools and enums in every spelling protobuf accepts', () => {
    const m = roundTrip(
      'force_backward: t debug_info: 0x1 layer { name: "p" type: "Pooling" propagate_down: True propagate_down: f propagate_down: False propagate_down: 1 pooling_param { pool: 1 } }',
    );
    expect(m.force_backward).toBe(true);
    expect(m.debug_info).toBe(true);
    expect(m.layer[0].propagate_down).toEqual([true, false, false, true]);
    expect(m.layer[0].pooling_param.pool).toBe(1);
    expect(errorOf('force_backward: 2')).toBe(`form.prototxt:1:17: force_backward: field 'force_backward' expects true or false, found '2'`);
  });

  it('keeps names from the text away from Object.prototype', () => {
    expect(errorOf('constructor: 1')).toBe(`form.prototxt:1:1: constructor: unknown field 'constructor' in NetParameter`);
    expect(errorOf('layer { name: "p" type: "Pooling" pooling_param { pool: toString } }')).toMatch(
      /'toString' is not a value of enum PoolMethod/,
    );
  });
});
