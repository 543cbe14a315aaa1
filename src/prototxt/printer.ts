// Message → canonical text (Caffe's style: two-space indent, `name: value`, `name {` for messages, fields in
// field-number order as protobuf's printer orders them; fork fields kept from the source follow, as written).
import type * as PB from 'protobufjs';
import type { AstField, AstValue } from './ast.js';
import { foreignFields } from './side-tables.js';
import { formatDouble, formatFloat } from './number-format.js';
import { quoteBytes, textToBytes } from './strings.js';

function isSet(msg: Record<string, any>, name: string): boolean {
  if (!Object.prototype.hasOwnProperty.call(msg, name)) return false;
  const v = msg[name];
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
}

function formatScalar(field: PB.Field, value: unknown): string {
  const resolved = field.resolvedType;
  if (resolved && 'values' in resolved) {
    const name = (resolved as PB.Enum).valuesById[value as number];
    return name ?? String(value);
  }
  switch (field.type) {
    case 'float':
      return formatFloat(value as number);
    case 'double':
      return formatDouble(value as number);
    case 'bool':
      return value ? 'true' : 'false';
    case 'string':
      return quoteBytes(textToBytes(value as string));
    case 'bytes':
      return quoteBytes(Buffer.from(value as Uint8Array).toString('latin1'));
    default:
      return String(value);
  }
}

export function printMessage(msg: Record<string, any>, type: PB.Type, indent = ''): string {
  let out = '';
  for (const field of type.fieldsArray.slice().sort((a, b) => a.id - b.id)) {
    if (!isSet(msg, field.name)) continue;
    field.resolve();
    const values = field.repeated ? (msg[field.name] as unknown[]) : [msg[field.name]];
    const sub = field.resolvedType && !('values' in field.resolvedType) ? (field.resolvedType as PB.Type) : undefined;
    for (const v of values) {
      if (sub) {
        out += `${indent}${field.name} {\n${printMessage(v as Record<string, any>, sub, indent + '  ')}${indent}}\n`;
      } else {
        out += `${indent}${field.name}: ${formatScalar(field, v)}\n`;
      }
    }
  }
  for (const f of foreignFields(msg)) out += printForeign(f, indent);
  return out;
}

/** Fork fields have no schema: print them from the syntax tree, normalized the same way. */
function printForeign(f: AstField, indent: string): string {
  const name = f.extension ? `[${f.name}]` : f.name;
  let out = '';
  for (const v of f.values) {
    if (v.kind === 'message') {
      out += `${indent}${name} {\n${v.fields.map((x) => printForeign(x, indent + '  ')).join('')}${indent}}\n`;
    } else {
      out += `${indent}${name}: ${foreignScalarText(v)}\n`;
    }
  }
  return out;
}

export function foreignScalarText(v: AstValue): string {
  if (v.kind === 'message') return '{...}';
  if (v.bytes !== undefined) return quoteBytes(v.bytes);
  return (v.negative ? '-' : '') + v.token.image;
}
