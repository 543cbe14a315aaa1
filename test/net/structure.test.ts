// Net::Init's structural checks (src/net/structure.ts) on small nets, the same errors from the Net
// constructor, and a net of 150,000 layers (no recursion, suggestions only for the reported problems).
import { describe, expect, it } from 'vitest';
import { parseCaffeText } from '../../src/proto/text.js';
import { newMessage, type Message } from '../../src/proto/schema.js';
import { structureErrors, assertNetStructure } from '../../src/net/structure.js';
import { inferShapes } from '../../src/net/shapes.js';
import { Net } from '../../src/net/net.js';
import { Phase } from '../../src/net/net-state.js';
import { KdnetError, combineBounded } from '../../src/errors.js';

const net = (text: string) => parseCaffeText(text, 'NetParameter', 'n.prototxt').message;
const lines = (text: string) => structureErrors(net(text)).map((e) => e.oneLine);
const input = 'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }\n';

describe('structureErrors', () => {
  it('names an unknown bottom with its layer, index and position, and suggests a blob that exists there', () => {
    expect(lines(`${input}layer { name: "relu" type: "ReLU" bottom: "dta" top: "r" }`)).toEqual([
      `n.prototxt:2:35: layer "relu": unknown bottom blob 'dta' (bottom index 0): no earlier layer produces it; did you mean 'data'?`,
    ]);
  });

  it('says when a bottom is produced only later, and by which layer', () => {
    expect(
      lines(`${input}layer { name: "a" type: "Eltwise" bottom: "data" bottom: "b" top: "a" }
layer { name: "b" type: "ReLU" bottom: "a" top: "b" }`),
    ).toEqual([
      `n.prototxt:2:50: layer "a": unknown bottom blob 'b' (bottom index 1): it is produced only later, by layer "b" (line 3): a layer can only read blobs of layers above it`,
    ]);
  });

  it('refuses a top produced twice unless in place (top[i] = bottom[i])', () => {
    expect(
      lines(`${input}layer { name: "r1" type: "ReLU" bottom: "data" top: "data" }
layer { name: "r2" type: "ReLU" bottom: "data" top: "y" }
layer { name: "r3" type: "ReLU" bottom: "data" top: "y" }
layer { name: "s" type: "Split" bottom: "data" top: "z" top: "z" }`),
    ).toEqual([
      `n.prototxt:4:48: layer "r3": top blob 'y' (top index 0) is produced by multiple sources: layer "r2" already produces it, and only an in-place layer (top[i] = bottom[i]) may produce a blob again`,
      `n.prototxt:5:57: layer "s": top blob 'z' (top index 1) is produced by multiple sources: this layer already produces it, and only an in-place layer (top[i] = bottom[i]) may produce a blob again`,
    ]);
  });

  it("checks each type's number of bottoms and tops (loss layers get their automatic top)", () => {
    expect(
      lines(`${input}layer { name: "relu" type: "ReLU" top: "r" }
layer { name: "cat" type: "Concat" top: "c" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "data" }
layer { name: "pool" type: "Pooling" bottom: "data" top: "p" top: "q" top: "m" }`),
    ).toEqual([
      'n.prototxt:2:7: layer "relu": ReLU takes 1 bottom blob(s), got 0',
      'n.prototxt:3:7: layer "cat": Concat takes at least 1 bottom blob(s), got 0',
      'n.prototxt:4:46: layer "loss": SoftmaxWithLoss takes 2 bottom blob(s), got 1',
      'n.prototxt:5:53: layer "pool": Pooling takes 1 to 2 top blob(s), got 3',
    ]);
  });

  it('checks loss_weight and propagate_down counts, and a missing type', () => {
    expect(
      lines(`${input}layer { name: "r" type: "ReLU" bottom: "data" top: "r" loss_weight: 1 loss_weight: 2 propagate_down: true propagate_down: false }
layer { name: "t" bottom: "r" top: "t" }`),
    ).toEqual([
      'n.prototxt:2:56: layer "r".loss_weight: loss_weight must be given once per top blob: 2 value(s) for 1 top(s)',
      'n.prototxt:2:86: layer "r".propagate_down: propagate_down must be given once per bottom blob: 2 value(s) for 1 bottom(s)',
      'n.prototxt:3:7: layer "t": the layer has no type',
    ]);
  });

  it('refuses shapes written in parameters that no blob can have, before anything is set up', () => {
    expect(
      lines(`layer { name: "d" type: "DummyData" top: "d" dummy_data_param { shape { dim: -1 dim: 3 } } }
layer { name: "z" type: "Input" top: "z" input_param { shape { dim: 0 dim: 3 } } }
layer { name: "h" type: "DummyData" top: "h" dummy_data_param { num: 100000 channels: 100000 height: 1 width: 1 } }
layer { name: "p" type: "Parameter" top: "p" parameter_param { shape { dim: 65536 dim: 65536 } } }`),
    ).toEqual([
      'n.prototxt:1:73: layer "d".dummy_data_param.shape[0]: dimension -1 in -1x3 is not a positive whole number',
      'n.prototxt:2:64: layer "z".input_param.shape[0]: dimension 0 in 0x3 is not a positive whole number',
      'n.prototxt:3:65: layer "h".dummy_data_param: 100000x100000x1x1: 10000000000 elements (37.25 GiB) are more than the limit of 2147483647 elements per blob (--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS)',
      'n.prototxt:4:72: layer "p".parameter_param.shape[0]: 65536x65536: 4294967296 elements (16.00 GiB) are more than the limit of 2147483647 elements per blob (--max-blob-elements or KDNET_MAX_BLOB_ELEMENTS)',
    ]);
  });

  it('accepts in-place layers, blobs read twice and layer types kdnet lacks (their counts are unknown)', () => {
    expect(
      lines(`${input}layer { name: "r" type: "ReLU" bottom: "data" top: "data" }
layer { name: "a" type: "PriorBox" bottom: "data" bottom: "data" top: "prior" }
layer { name: "e" type: "Eltwise" bottom: "data" bottom: "prior" top: "e" }`),
    ).toEqual([]);
  });

  it('is what the Net constructor throws, before any layer is set up', () => {
    const text = `${input}layer { name: "relu" type: "ReLU" bottom: "dta" top: "r" }
layer { name: "ip" type: "InnerProduct" bottom: "r" top: "ip" inner_product_param { num_output: 4000000000 } }
layer { name: "cat" type: "Concat" top: "c" }`;
    let thrown: unknown;
    try {
      new Net(net(text), { phase: Phase.TRAIN });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KdnetError);
    expect((thrown as KdnetError).report()).toBe(structureErrors(net(text)).map((e) => e.oneLine).join('\n'));
    expect((thrown as KdnetError).report().split('\n')).toHaveLength(2);
  });

  it('reports 20 problems and counts the rest', () => {
    const many = Array.from({ length: 25 }, (_, i) => `layer { name: "r${i}" type: "ReLU" bottom: "nope${i}" top: "y${i}" }`).join('\n');
    const report = combineBounded(structureErrors(net(many))).report().split('\n');
    expect(report).toHaveLength(21);
    expect(report[20]).toBe('… and 5 more problems');
    expect(() => assertNetStructure(net(many))).toThrow(KdnetError);
  });
});

describe('a net of 150,000 layers', () => {
  const N = 150_000;
  const chain = (bottomPrefix: string) => {
    const layers: Message[] = [
      newMessage('LayerParameter', { name: 'in', type: 'Input', top: ['x0'], input_param: newMessage('InputParameter', { shape: [newMessage('BlobShape', { dim: [1, 4] })] }) }),
    ];
    for (let i = 1; i < N; i++) layers.push(newMessage('LayerParameter', { name: `r${i}`, type: 'ReLU', bottom: [`${bottomPrefix}${i - 1}`], top: [`x${i}`] }));
    return newMessage('NetParameter', { name: 'big', layer: layers });
  };

  it('is checked and its shapes inferred without recursion', () => {
    const good = chain('x');
    expect(structureErrors(good)).toEqual([]);
    const { rows, errors } = inferShapes(good, Phase.TEST);
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(N);
    expect(rows[N - 1]!.tops).toEqual([[1, 4]]);
  });

  it('finds every broken bottom, but searches for suggestions only for the 20 it reports', () => {
    const errors = structureErrors(chain('y'));
    expect(errors).toHaveLength(N - 1);
    expect(errors.filter((e) => e.message.includes('did you mean')).length).toBe(20);
    expect(errors[0]!.message).toBe("unknown bottom blob 'y0' (bottom index 0): no earlier layer produces it; did you mean 'x0'?");
  });
});
