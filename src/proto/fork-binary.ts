// Binary .caffemodel files written by the distillation forks number their layer parameters as the forks'
// caffe.proto did: wentianli's knowledge_distillation_param is field 147 and kdistil's (PR #4378)
// tempsoftmax_param is field 137 — numbers master's caffe.proto, and so kdnet's, give to swish_param and
// embed_param. Decoded by number, a fork layer's temperature would come back as a Swish beta or an Embed
// num_output. The layer's type tells the two apart without doubt (a KnowledgeDistillation layer never has a
// swish_param, a TempSoftmaxCrossEntropyLoss layer never an embed_param), so before decoding, that field of
// such a layer is renumbered to kdnet's (149, 150). Only the field's tag changes: its payload bytes, and every
// other byte of the file, are kept as they are, so nothing the fork wrote is lost (both forks' messages hold
// `optional float temperature = 1`, as kdnet's do).
import { protobuf } from './schema.js';
import { log } from '../log.js';

export interface ForkField {
  layerType: string;
  param: string;
  forkField: number;
  kdnetField: number;
}

export const FORK_LAYER_FIELDS: readonly ForkField[] = [
  { layerType: 'KnowledgeDistillation', param: 'knowledge_distillation_param', forkField: 147, kdnetField: 149 },
  { layerType: 'TempSoftmaxCrossEntropyLoss', param: 'tempsoftmax_param', forkField: 137, kdnetField: 150 },
];

const NET_LAYER_FIELD = 100; // NetParameter.layer
const LAYER_TYPE_FIELD = 2; // LayerParameter.type
const LENGTH_DELIMITED = 2;

/** One field occurrence in a message's bytes: [start, end) covers tag and value; value starts at tagEnd. */
interface FieldSpan {
  field: number;
  wire: number;
  start: number;
  tagEnd: number;
  end: number;
}

/** The field occurrences of bytes[start, end), or undefined when they are not well-formed protobuf. */
function scanFields(bytes: Uint8Array, start: number, end: number): FieldSpan[] | undefined {
  const reader = protobuf.Reader.create(bytes.subarray(start, end));
  const spans: FieldSpan[] = [];
  try {
    while (reader.pos < reader.len) {
      const at = reader.pos;
      const tag = reader.uint32();
      const tagEnd = reader.pos;
      const wire = tag & 7;
      if (tag >>> 3 === 0 || wire === 4) return undefined; // field 0, or an end-group without its start
      reader.skipType(wire);
      spans.push({ field: tag >>> 3, wire, start: start + at, tagEnd: start + tagEnd, end: start + reader.pos });
    }
  } catch {
    return undefined;
  }
  return spans;
}

/** Where a length-delimited value's payload starts (after its length varint). */
function payloadStart(bytes: Uint8Array, span: FieldSpan): number {
  const reader = protobuf.Reader.create(bytes.subarray(span.tagEnd, span.end));
  reader.uint32();
  return span.tagEnd + reader.pos;
}

function layerType(bytes: Uint8Array, fields: FieldSpan[]): string | undefined {
  // proto2: the last occurrence of a non-repeated field wins.
  const span = fields.filter((f) => f.field === LAYER_TYPE_FIELD && f.wire === LENGTH_DELIMITED).pop();
  return span && Buffer.from(bytes.subarray(payloadStart(bytes, span), span.end)).toString('utf8');
}

function layerName(bytes: Uint8Array, fields: FieldSpan[]): string {
  const span = fields.filter((f) => f.field === 1 && f.wire === LENGTH_DELIMITED).pop();
  return span ? Buffer.from(bytes.subarray(payloadStart(bytes, span), span.end)).toString('utf8') : '(unnamed)';
}

/** The layer's bytes with its fork field renumbered, or undefined when it has nothing to renumber. */
function renumberLayer(bytes: Uint8Array, layer: FieldSpan, done: string[]): Uint8Array | undefined {
  const start = payloadStart(bytes, layer);
  const fields = scanFields(bytes, start, layer.end);
  if (!fields) return undefined;
  const type = layerType(bytes, fields);
  const map = FORK_LAYER_FIELDS.find((m) => m.layerType === type);
  if (!map || !fields.some((f) => f.field === map.forkField && f.wire === LENGTH_DELIMITED)) return undefined;
  const name = layerName(bytes, fields);
  if (fields.some((f) => f.field === map.kdnetField)) {
    log.warn(`layer "${name}" (${type}) has both the fork's field ${map.forkField} and kdnet's ${map.kdnetField}: kdnet's ${map.param} is used`);
    return undefined;
  }
  const writer = protobuf.Writer.create();
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    if (f.field === map.forkField && f.wire === LENGTH_DELIMITED) {
      parts.push(writer.uint32((map.kdnetField << 3) | LENGTH_DELIMITED).finish(), bytes.subarray(f.tagEnd, f.end));
    } else {
      parts.push(bytes.subarray(f.start, f.end));
    }
  }
  done.push(`"${name}" (${map.param} ${map.forkField} → ${map.kdnetField})`);
  return Buffer.concat(parts);
}

/**
 * A binary NetParameter with the forks' distillation parameter fields renumbered to kdnet's, by layer type.
 * Returns `bytes` itself when there is nothing to renumber or the bytes are not a well-formed message (the
 * decoder then reports what is wrong). `source` names the file in the log line.
 */
export function renumberForkLayerFields(bytes: Uint8Array, source = 'weights'): Uint8Array {
  const top = scanFields(bytes, 0, bytes.length);
  if (!top) return bytes;
  const done: string[] = [];
  const parts: Uint8Array[] = [];
  for (const f of top) {
    const renumbered = f.field === NET_LAYER_FIELD && f.wire === LENGTH_DELIMITED ? renumberLayer(bytes, f, done) : undefined;
    if (!renumbered) {
      parts.push(bytes.subarray(f.start, f.end));
      continue;
    }
    parts.push(bytes.subarray(f.start, f.tagEnd), protobuf.Writer.create().uint32(renumbered.length).finish(), renumbered);
  }
  if (!done.length) return bytes;
  log.info(`Read the distillation forks' parameter field numbers in ${source}: ${done.join(', ')}`);
  return Buffer.concat(parts);
}
