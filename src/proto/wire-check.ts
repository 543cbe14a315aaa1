// A look at a binary protobuf message's top level before decoding it. protobufjs decodes many byte strings
// that are not the message at all (unknown fields are skipped, so ~8 % of random files and most short text
// files "parse"), and on a truncated file says only "index out of range". This walk says where and why.
import type { Type } from './schema.js';

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'group start', 'group end', '32-bit'];

export interface TopLevelField {
  field: number;
  wireType: number;
  /** Byte offset of the field's tag. */
  offset: number;
  /** For length-delimited fields: where the payload starts and ends. */
  start: number;
  end: number;
}

export type WireScan = { ok: true; fields: TopLevelField[] } | { ok: false; problem: string };

class Truncated extends Error {}

function readVarint(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new Truncated();
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (!(b & 0x80)) return [value, pos];
  }
  throw new RangeError('a varint longer than 10 bytes');
}

/** Walks the top-level fields (payloads are skipped, not decoded). */
export function scanTopLevel(bytes: Uint8Array, fieldName: (field: number) => string = (f) => `field ${f}`): WireScan {
  const fields: TopLevelField[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const offset = pos;
    let tag: number;
    try {
      [tag, pos] = readVarint(bytes, pos);
    } catch (e) {
      if (e instanceof Truncated) return { ok: false, problem: `truncated: the file ends inside a field tag at byte ${offset}` };
      return { ok: false, problem: `no valid field tag at byte ${offset}` };
    }
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) return { ok: false, problem: `invalid field number 0 at byte ${offset}` };
    const start = pos;
    try {
      if (wireType === 0) [, pos] = readVarint(bytes, pos);
      else if (wireType === 1 || wireType === 5) {
        pos += wireType === 1 ? 8 : 4;
        if (pos > bytes.length) throw new Truncated();
      } else if (wireType === 2) {
        let length: number;
        [length, pos] = readVarint(bytes, pos);
        if (pos + length > bytes.length) {
          return { ok: false, problem: truncatedRecord(bytes, fieldName(field), offset, pos, length) };
        }
        const payload = pos;
        pos += length;
        fields.push({ field, wireType, offset, start: payload, end: pos });
        continue;
      } else {
        return { ok: false, problem: `invalid wire type ${wireType} (${WIRE_NAMES[wireType] ?? 'none'}) at byte ${offset}` };
      }
    } catch (e) {
      if (e instanceof Truncated) return { ok: false, problem: `truncated at byte ${bytes.length}: the file ends inside ${fieldName(field)} (byte ${offset})` };
      return { ok: false, problem: `no valid value for ${fieldName(field)} at byte ${offset}` };
    }
    fields.push({ field, wireType, offset, start, end: pos });
  }
  return { ok: true, fields };
}

function truncatedRecord(bytes: Uint8Array, field: string, offset: number, payload: number, length: number): string {
  const name = leadingName(bytes, payload);
  const what = name === undefined ? field : `${field} "${name}"`;
  return `truncated at byte ${bytes.length}: ${what} (from byte ${offset}) is ${length} bytes long but only ${bytes.length - payload} remain`;
}

/** The `name` (field 1, a string) a record starts with, when its first bytes hold it whole. */
export function leadingName(bytes: Uint8Array, at: number): string | undefined {
  if (bytes[at] !== 0x0a) return undefined;
  try {
    const [length, start] = readVarint(bytes, at + 1);
    if (length > 200 || start + length > bytes.length) return undefined;
    const text = Buffer.from(bytes.subarray(start, start + length)).toString('utf8');
    return /^[\x20-\x7e]*$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

const SCALAR_WIRE: Record<string, number> = {
  double: 1, fixed64: 1, sfixed64: 1,
  float: 5, fixed32: 5, sfixed32: 5,
  string: 2, bytes: 2,
};

/** Whether a top-level field is one `type` declares, with a wire type protobuf would accept for it. */
export function isDeclaredField(type: Type, f: TopLevelField): boolean {
  const declared = type.fieldsById[f.field];
  if (!declared) return false;
  const scalarWire = declared.resolvedType && !('values' in declared.resolvedType) ? 2 : (SCALAR_WIRE[declared.type] ?? 0);
  // Repeated numbers may come packed (length-delimited) or one by one.
  return f.wireType === scalarWire || (declared.repeated && scalarWire !== 2 && f.wireType === 2);
}
