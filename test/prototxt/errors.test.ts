// Bad input gets one clear error naming file, line:column, the field path and what was expected.
// Each case asserts the exact text users see (`file:line:col: path: message`).
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCaffeText } from '../../src/proto/text.js';
import { KdnetError } from '../../src/errors.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';

function errorOf(text: string, type = 'NetParameter'): string {
  try {
    parseCaffeText(text, type, 'net.prototxt');
  } catch (e) {
    if (e instanceof KdnetError) return e.report();
    throw e;
  }
  throw new Error('no error');
}

const conv = (inner: string) => `name: "n"\nlayer {\n  name: "conv1"\n  type: "Convolution"\n  convolution_param {\n    ${inner}\n  }\n}\n`;

describe('error messages', () => {
  const cases: [string, string, string, string?][] = [
    ['misspelt field gets a suggestion', conv('kernal_size: 3'),
      `net.prototxt:6:5: layer[0] "conv1".convolution_param.kernal_size: unknown field 'kernal_size' in ConvolutionParameter; did you mean 'kernel_size'?`],
    ['unknown top-level field without a close match', 'name: "n"\nfrobnicate: 3\n',
      `net.prototxt:2:1: frobnicate: unknown field 'frobnicate' in NetParameter`],
    ['misspelt message field', 'layer { name: "c" type: "Convolution" convolution_parm { } }',
      `net.prototxt:1:39: layer[0] "c".convolution_parm: unknown field 'convolution_parm' in LayerParameter; did you mean 'convolution_param'?`],
    ['enum value misspelt', 'layer { name: "p" type: "Pooling" pooling_param { pool: MAXX } }',
      `net.prototxt:1:57: layer[0] "p".pooling_param.pool: 'MAXX' is not a value of enum PoolMethod; did you mean 'MAX'? (one of MAX, AVE, STOCHASTIC)`],
    ['enum number not defined', 'layer { name: "p" type: "Pooling" pooling_param { pool: 7 } }',
      `net.prototxt:1:57: layer[0] "p".pooling_param.pool: 7 is not a number of enum PoolMethod (one of MAX=0, AVE=1, STOCHASTIC=2)`],
    ['string expected', 'name: 3\n', `net.prototxt:1:7: name: field 'name' expects a quoted string, found '3'`],
    ['integer expected, float given', conv('num_output: 2.5'),
      `net.prototxt:6:17: layer[0] "conv1".convolution_param.num_output: field 'num_output' expects an integer (uint32), found '2.5'`],
    ['negative value for an unsigned field', conv('num_output: -3'),
      `net.prototxt:6:17: layer[0] "conv1".convolution_param.num_output: value -3 is out of range for field 'num_output' (uint32: 0 to 4294967295)`],
    ['int32 overflow', 'layer { name: "s" type: "Softmax" softmax_param { axis: 3000000000 } }',
      `net.prototxt:1:57: layer[0] "s".softmax_param.axis: value 3000000000 is out of range for field 'axis' (int32: -2147483648 to 2147483647)`],
    ['bool expected', conv('bias_term: yes'),
      `net.prototxt:6:16: layer[0] "conv1".convolution_param.bias_term: field 'bias_term' expects true or false, found 'yes'`],
    ['message field given a scalar', 'layer { name: "c" convolution_param: 3 }',
      `net.prototxt:1:38: layer[0] "c".convolution_param: field 'convolution_param' is a message (ConvolutionParameter): expected '{' but found '3'`],
    ['scalar field given a message', 'name { }\n', `net.prototxt:1:6: name: field 'name' holds a string, not a message`],
    ['non-repeated field given twice', 'name: "a"\nname: "b"\n',
      `net.prototxt:2:1: name: non-repeated field 'name' is given more than once (first at 1:1)`],
    ['list for a non-repeated field', conv('num_output: [1, 2]'),
      `net.prototxt:6:5: layer[0] "conv1".convolution_param.num_output: field 'num_output' is not repeated: a [list] is not allowed`],
    ['missing colon before a scalar', 'name "x"\n', `net.prototxt:1:1: name: expected ':' between field 'name' and its value`],
    ['unclosed block', 'layer {\n  name: "a"\n', `net.prototxt:3:1: missing '}' to close '{' opened at 1:7; found end of file`],
    ['unmatched closing brace', 'name: "a"\n}\n', `net.prototxt:2:1: unmatched '}'`],
    ['file cut off after a colon', 'layer {\n  name:',
      `net.prototxt:2:8: expected a value (number, string, identifier, '{' or '[') but found end of file ('{' opened at 1:7 is still open)`],
    ['nesting beyond protobuf\'s limit', `layer {${' a {'.repeat(100)}`, `net.prototxt:1:${8 + 4 * 99 + 3}: nesting deeper than 100 levels (protobuf's limit)`],
    ['number run into a name', 'layer { name: "c" type: "Convolution" convolution_param { kernel_size: 3pad: 1 } }',
      `net.prototxt:1:72: '3pad' is not a number; a space is needed between the number '3' and 'pad'`],
    ['unterminated string', 'name: "abc\n', `net.prototxt:1:7: unterminated string (strings cannot span lines)`],
    ['invalid escape', 'name: "a\\qb"\n', `net.prototxt:1:9: invalid escape sequence '\\q'`],
    ['missing value', 'layer { name: }\n', `net.prototxt:1:15: expected a value (number, string, identifier, '{' or '[') but found '}'`],
    ['stray character', 'name: "a" @\n', `net.prototxt:1:11: unexpected character '@'`],
    ['invalid octal integer', conv('kernel_size: 09'),
      `net.prototxt:6:18: layer[0] "conv1".convolution_param.kernel_size[0]: field 'kernel_size' expects an integer (uint32), found '09'`],
    ['trailing comma in a list', conv('kernel_size: [3, 3,]'),
      `net.prototxt:6:24: expected a value (number, string, identifier, '{' or '[') but found ']'`],
    ['number given as a string', 'base_lr: "0.1"\n',
      `net.prototxt:1:10: base_lr: field 'base_lr' expects a number (float), found '"0.1"'`, 'SolverParameter'],
    ['misspelt solver field', 'base_rl: 0.1\n',
      `net.prototxt:1:1: base_rl: unknown field 'base_rl' in SolverParameter; did you mean 'base_lr'?`, 'SolverParameter'],
    ['V1 enum layer type misspelt', 'layers { name: "c" type: CONVOLUTON }',
      `net.prototxt:1:26: layers[0] "c".type: 'CONVOLUTON' is not a value of enum LayerType; did you mean 'CONVOLUTION'?`],
    ['value after a field name without a colon in a list', 'layer { name: "a" bottom ["x"] }',
      `net.prototxt:1:19: layer[0] "a".bottom: expected ':' between field 'bottom' and its value`],
  ];

  for (const [what, text, expected, type] of cases) {
    it(what, () => {
      const report = errorOf(text, type);
      expect(report).toBe(expected);
    });
  }

  it(`counts ${cases.length} distinct kinds`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it('reports several problems of one file together, in order', () => {
    const report = errorOf('name: "a"\nlayer { name: "c" type: "Convolution" convolution_param { kernal_size: 3 num_output: x } }\nbogus: 1\n');
    expect(report.split('\n')).toEqual([
      `net.prototxt:2:59: layer[0] "c".convolution_param.kernal_size: unknown field 'kernal_size' in ConvolutionParameter; did you mean 'kernel_size'?`,
      `net.prototxt:2:86: layer[0] "c".convolution_param.num_output: field 'num_output' expects an integer (uint32), found 'x'`,
      `net.prototxt:3:1: bogus: unknown field 'bogus' in NetParameter`,
    ]);
  });

  it('reports several syntax errors together', () => {
    const report = errorOf('a: [1,]\nb: }\n');
    expect(report.split('\n')).toHaveLength(2);
  });
});

describe('CLI error output', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-errors-'));

  it('prints one clear line and exits 1 for a bad file, no stack trace', async () => {
    const f = path.join(dir, 'bad.prototxt');
    fs.writeFileSync(f, conv('stride: -1'));
    const io = bufferIO();
    expect(await runCli(['check', f], io)).toBe(1);
    expect(io.stderr).toBe(
      `error: ${f}:6:13: layer[0] "conv1".convolution_param.stride[0]: value -1 is out of range for field 'stride' (uint32: 0 to 4294967295)\n`,
    );
    expect(io.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  // Issue 10, as users met it: each broken file is exit 1 and one positioned line, never an internal error.
  async function checkText(name: string, text: string) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    const io = bufferIO();
    const code = await runCli(['check', f], io);
    expect(io.stderr).not.toMatch(/internal error|    at /);
    return { f, code, ...io };
  }

  it('names the unclosed brace of a file cut off at the end', async () => {
    const r = await checkText('cut.prototxt', 'layer { name: "a" type: "Input" top: "a" input_param { shape { dim: 1 } }');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${r.f}:1:74: missing '}' to close '{' opened at 1:7; found end of file\n`);
  });

  it("reads '< >' on a repeated field beside '{ }'", async () => {
    const r = await checkText(
      'angles.prototxt',
      'layer { name: "a" type: "Input" top: "a" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n' +
        'layer { name: "c" type: "Convolution" bottom: "a" top: "c" param < lr_mult: 1 > param { lr_mult: 2 } ' +
        'convolution_param { num_output: 2 kernel_size: 3 } }\n',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^1\s+c\s+Convolution\s+a\s+c\s+both\s+1x2x6x6\s+56\s/m);
  });

  it('refuses nesting beyond 100 levels in one line', async () => {
    const r = await checkText('deep.prototxt', `layer { name: "a" type: "Foo" foo_param {${' x {'.repeat(5000)}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${r.f}:1:${41 + 4 * 99}: nesting deeper than 100 levels (protobuf's limit)\n`);
  });

  it('prints 20 errors and a count for a file full of them', async () => {
    const r = await checkText('many.prototxt', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toMatch(/: … and maybe more: reading stopped after these syntax errors$/);
  });

  it('names a missing file', async () => {
    const io = bufferIO();
    expect(await runCli(['check', path.join(dir, 'nope.prototxt')], io)).toBe(1);
    expect(io.stderr).toBe(`error: cannot read ${path.join(dir, 'nope.prototxt')}: no such file\n`);
  });

  it('rejects include and exclude rules on one layer, naming the layer', async () => {
    const f = path.join(dir, 'rules.prototxt');
    fs.writeFileSync(f, 'layer {\n  name: "l"\n  type: "ReLU"\n  include { phase: TRAIN }\n  exclude { phase: TEST }\n}\n');
    const io = bufferIO();
    expect(await runCli(['check', f], io)).toBe(1);
    expect(io.stderr).toBe(`error: ${f}:4:3: layer "l": specify either include rules or exclude rules, not both\n`);
  });

  it('lists every unknown layer type at once', async () => {
    const f = path.join(dir, 'fork.prototxt');
    fs.writeFileSync(
      f,
      'layer { name: "a" type: "PriorBox" prior_box_param { min_size: 30 } }\nlayer { name: "b" type: "Permute" }\nlayer { name: "c" type: "PriorBox" }\n',
    );
    const io = bufferIO();
    expect(await runCli(['check', f], io)).toBe(1);
    expect(io.stderr).toBe(
      `error: ${f}:1:7: 2 layer types are not in Caffe master: PriorBox from SSD (weiliu89/caffe, branch ssd): "a", "c"; Permute from SSD (weiliu89/caffe, branch ssd): "b"\n`,
    );
  });
});
