import { describe, expect, it } from 'vitest';
import { parseTextFormat } from '../../src/prototxt/parser.js';
import type { AstMessage, AstScalar } from '../../src/prototxt/ast.js';
import { decodeStringLiteral, quoteBytes } from '../../src/prototxt/strings.js';
import { formatFloat, formatDouble, formatG } from '../../src/prototxt/number-format.js';
import { editDistance, closest } from '../../src/prototxt/suggest.js';

function scalar(ast: AstMessage, i: number, j = 0): AstScalar {
  const v = ast.fields[i]!.values[j]!;
  if (v.kind !== 'scalar') throw new Error('not a scalar');
  return v;
}

describe('text-format syntax', () => {
  it('reads comments anywhere, both delimiters, optional colon before messages and separators', () => {
    const { ast, problems } = parseTextFormat(
      '# head\na: 1 # tail\nb { c: 2; } d: < e: "x" >, f {\n}\ng: [1, 2, 3]\nh [ { i: 1 }, { i: 2 } ]\n',
    );
    expect(problems).toEqual([]);
    expect(ast.fields.map((f) => f.name)).toEqual(['a', 'b', 'd', 'f', 'g', 'h']);
    expect(ast.fields[1]!.colon).toBe(false);
    expect(ast.fields[2]!.values[0]!.kind).toBe('message');
    expect(ast.fields[4]!.list).toBe(true);
    expect(ast.fields[4]!.values.map((v) => (v as AstScalar).token.image)).toEqual(['1', '2', '3']);
    expect(ast.fields[5]!.values).toHaveLength(2);
  });

  it('tokenizes every number form Caffe files use', () => {
    const { ast, problems } = parseTextFormat('a: 1e-4 a: .5 a: 5. a: 1.0f a: -inf a: nan a: 0x1F a: 017 a: -3');
    expect(problems).toEqual([]);
    const kinds = ast.fields.map((f) => (f.values[0] as AstScalar).token.tokenType.name);
    expect(kinds).toEqual([
      'FloatLiteral', 'FloatLiteral', 'FloatLiteral', 'FloatLiteral', 'Identifier', 'Identifier', 'IntLiteral', 'IntLiteral', 'IntLiteral',
    ]);
    expect(scalar(ast, 4).negative).toBe(true);
    expect(scalar(ast, 8).negative).toBe(true);
  });

  it('concatenates adjacent strings in either quote style and decodes C escapes', () => {
    const { ast, problems } = parseTextFormat(`s: "ab" 'c\\'d' "\\n\\t\\x41\\101\\\\"`);
    expect(problems).toEqual([]);
    expect(scalar(ast, 0).bytes).toBe("abc'd\n\tAA\\");
  });

  it('keeps UTF-8 as bytes and quotes them back as octal', () => {
    expect(decodeStringLiteral('"é"')).toBe('\xc3\xa9');
    expect(quoteBytes('\xc3\xa9"\n')).toBe('"\\303\\251\\"\\n"');
  });

  it('accepts [extension.names]', () => {
    const { ast, problems } = parseTextFormat('[caffe.foo_param] { x: 1 }');
    expect(problems).toEqual([]);
    expect(ast.fields[0]).toMatchObject({ name: 'caffe.foo_param', extension: true });
  });

  it('reports several syntax errors at once with positions', () => {
    const { problems } = parseTextFormat('x: [1, 2,]\nlayer { name: "a" b: }\ny: 3');
    expect(problems).toEqual([
      { message: "expected a value (number, string, identifier, '{' or '[') but found ']'", line: 1, column: 10 },
      { message: "expected a value (number, string, identifier, '{' or '[') but found '}'", line: 2, column: 22 },
    ]);
  });

  it('names the unclosed brace', () => {
    const { problems } = parseTextFormat('layer {\n  name: "a"\n');
    expect(problems).toEqual([{ message: "missing '}' to close '{' opened at 1:7; found end of file", line: 3, column: 1 }]);
  });

  it('reports an unmatched closing brace', () => {
    expect(parseTextFormat('a: 1 }\n').problems).toEqual([{ message: "unmatched '}'", line: 1, column: 6 }]);
  });

  it('reports an unterminated string', () => {
    expect(parseTextFormat('name: "abc\nx: 1').problems[0]).toEqual({
      message: 'unterminated string (strings cannot span lines)',
      line: 1,
      column: 7,
    });
  });

  it('handles CRLF and lone CR line ends in positions', () => {
    const { problems } = parseTextFormat('a: 1\r\nb: 2\rc: ]');
    expect(problems[0]).toMatchObject({ line: 3, column: 4 });
  });
});

describe('number printing (protobuf %g style)', () => {
  it('matches printf %g', () => {
    expect(formatG(1e-5, 6)).toBe('1e-05');
    expect(formatG(0.0001, 6)).toBe('0.0001');
    expect(formatG(100, 6)).toBe('100');
    expect(formatG(1234567, 6)).toBe('1.23457e+06');
    expect(formatG(-2.5, 6)).toBe('-2.5');
  });
  it('picks the shortest float32 text that reads back', () => {
    expect(formatFloat(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat(Math.fround(0.007843))).toBe('0.007843');
    expect(formatFloat(Math.fround(1.0000001))).toBe('1.00000012');
    expect(formatFloat(Infinity)).toBe('inf');
    expect(formatFloat(-Infinity)).toBe('-inf');
    expect(formatFloat(NaN)).toBe('nan');
    expect(formatDouble(0.1)).toBe('0.1');
  });
});

describe('did-you-mean', () => {
  it('measures edit distance with transpositions', () => {
    expect(editDistance('kernel_size', 'kernal_size')).toBe(1);
    expect(editDistance('stride', 'stirde')).toBe(1);
  });
  it('suggests only close names', () => {
    expect(closest('kernal_size', ['kernel_size', 'stride'])).toBe('kernel_size');
    expect(closest('resize_param', ['scale', 'mirror', 'crop_size'])).toBeUndefined();
  });
});
