// Fork .caffemodel files: the distillation layers' parameters at the forks' field numbers (147, 137) are read
// into kdnet's (149, 150) by layer type, through convert-weights and upgrade --binary; master files with real
// swish_param / embed_param are left alone.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { caffeType, protobuf, type Message } from '../../src/proto/schema.js';
import { LEN, VARINT, blob, floatParam, layer, tag } from '../support/fork-model.js';
import { renumberForkLayerFields } from '../../src/proto/fork-binary.js';
import { readCaffemodel } from '../../src/proto/weights.js';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { setLogSink } from '../../src/log.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-fork-binary-'));

function forkModel(withTempSoftmax = true): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(tag(1, LEN)).string('fork_kd');
  layer(w, 'ip_s', 'InnerProduct', ['data'], (x) => blob(x, [0.5, -1.25, 2]));
  layer(w, 'kd', 'KnowledgeDistillation', ['ip_s', 'ip_t'], (x) => floatParam(x, 147, 6, 42));
  if (withTempSoftmax) layer(w, 'tsce', 'TempSoftmaxCrossEntropyLoss', ['ip_s', 'soft'], (x) => floatParam(x, 137, 3.5));
  return w.finish();
}

function masterModel(): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(tag(1, LEN)).string('master');
  layer(w, 'swish', 'Swish', ['x'], (x) => floatParam(x, 147, 6)); // SwishParameter.beta = 1 (float)
  layer(w, 'embed', 'Embed', ['ids'], (x) => {
    x.uint32(tag(137, LEN)).fork().uint32(tag(1, VARINT)).uint32(5).uint32(tag(2, VARINT)).uint32(10).ldelim(); // num_output, input_dim
  });
  return w.finish();
}

const quiet = <T>(fn: () => T): T => {
  const restore = setLogSink(() => {});
  try {
    return fn();
  } finally {
    setLogSink(restore);
  }
};

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

const layerNamed = (net: Message, name: string): Message => (net.layer as Message[]).find((l) => l.name === name)!;

describe('fork field numbers in binary weights', () => {
  const forkFile = path.join(dir, 'fork.caffemodel');
  fs.writeFileSync(forkFile, forkModel());

  it('decoded by number alone, a fork temperature reads as a Swish beta or breaks an Embed parameter', () => {
    const naive = caffeType('NetParameter').decode(forkModel(false)) as unknown as Message;
    expect(layerNamed(naive, 'kd').swish_param.beta).toBe(6);
    expect(layerNamed(naive, 'kd').knowledge_distillation_param).toBeNull();
    // A float where EmbedParameter has a varint: the decoder misreads (here: runs off the end).
    expect(() => caffeType('NetParameter').decode(forkModel())).toThrow();
  });

  it('reads them into knowledge_distillation_param and tempsoftmax_param by layer type', () => {
    const lines: string[] = [];
    const restore = setLogSink((_l, m) => lines.push(m));
    const net = readCaffemodel(forkFile);
    setLogSink(restore);
    const kd = layerNamed(net, 'kd');
    expect(kd.knowledge_distillation_param.temperature).toBe(6);
    expect(kd.swish_param).toBeNull();
    const tsce = layerNamed(net, 'tsce');
    expect(tsce.tempsoftmax_param.temperature).toBe(3.5);
    expect(tsce.embed_param).toBeNull();
    expect(Array.from(layerNamed(net, 'ip_s').blobs[0].data as number[])).toEqual([0.5, -1.25, 2]);
    expect(lines.join('\n')).toContain('"kd" (knowledge_distillation_param 147 → 149), "tsce" (tempsoftmax_param 137 → 150)');
  });

  it('changes only the two tags: every other byte (blobs, unknown fields inside the fork message) is kept', () => {
    const before = forkModel();
    const after = Buffer.from(quiet(() => renumberForkLayerFields(before)));
    // The tags as varints: 147·8+2 = [0x9a 0x09] → 149·8+2 = [0xaa 0x09]; 137·8+2 = [0xca 0x08] → 150·8+2 = [0xb2 0x09].
    const expected = Buffer.from(before);
    for (const [from, to] of [[[0x9a, 0x09], [0xaa, 0x09]], [[0xca, 0x08], [0xb2, 0x09]]] as const) {
      const at = expected.indexOf(Buffer.from(from));
      expect(at).toBeGreaterThan(0);
      expected.set(to, at);
    }
    expect(after.equals(expected)).toBe(true);
  });

  it('convert-weights writes the temperatures in kdnet fields, in text and back in binary', async () => {
    const text = path.join(dir, 'fork.prototxt');
    const r = await run('convert-weights', forkFile, text);
    expect(r.code, r.stderr).toBe(0);
    const printed = fs.readFileSync(text, 'utf8');
    expect(printed).toMatch(/knowledge_distillation_param \{\s+temperature: 6\s+\}/);
    expect(printed).toMatch(/tempsoftmax_param \{\s+temperature: 3\.5\s+\}/);
    expect(printed).not.toMatch(/swish_param|embed_param/);
    const back = path.join(dir, 'back.caffemodel');
    expect((await run('convert-weights', text, back)).code).toBe(0);
    const decoded = caffeType('NetParameter').decode(fs.readFileSync(back)) as unknown as Message;
    expect(layerNamed(decoded, 'kd').knowledge_distillation_param.temperature).toBe(6);
  });

  it('upgrade --binary writes kdnet field numbers (149, 150)', async () => {
    const out = path.join(dir, 'upgraded.caffemodel');
    const r = await run('upgrade', forkFile, out, '--binary');
    expect(r.code, r.stderr).toBe(0);
    const decoded = caffeType('NetParameter').decode(fs.readFileSync(out)) as unknown as Message;
    expect(layerNamed(decoded, 'kd').knowledge_distillation_param.temperature).toBe(6);
    expect(layerNamed(decoded, 'tsce').tempsoftmax_param.temperature).toBe(3.5);
    expect(layerNamed(decoded, 'kd').swish_param).toBeNull();
  });

  it('leaves a master file with real swish_param and embed_param untouched', async () => {
    const bytes = masterModel();
    expect(renumberForkLayerFields(bytes)).toBe(bytes);
    const file = path.join(dir, 'master.caffemodel');
    fs.writeFileSync(file, bytes);
    const net = readCaffemodel(file);
    expect(layerNamed(net, 'swish').swish_param.beta).toBe(6);
    expect(layerNamed(net, 'embed').embed_param.num_output).toBe(5);
    expect(layerNamed(net, 'embed').embed_param.input_dim).toBe(10);
    const r = await run('convert-weights', file, path.join(dir, 'master.prototxt'));
    expect(r.code).toBe(0);
    const printed = fs.readFileSync(path.join(dir, 'master.prototxt'), 'utf8');
    expect(printed).toMatch(/swish_param \{\s+beta: 6\s+\}/);
    expect(printed).not.toMatch(/knowledge_distillation_param|tempsoftmax_param/);
  });

  it('passes bytes that are not a message through unchanged (the decoder reports them)', () => {
    const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]);
    expect(renumberForkLayerFields(garbage)).toBe(garbage);
  });
});
