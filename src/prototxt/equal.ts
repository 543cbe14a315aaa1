// Message equality for round-trip checks: every set field (with has-ness, not just values) and the fork
// fields kept from the source.
import type * as PB from 'protobufjs';
import { foreignFields } from './side-tables.js';
import { foreignScalarText } from './printer.js';
import type { AstField } from './ast.js';

function foreignKey(fields: AstField[]): string {
  const one = (f: AstField): string =>
    `${f.name}:[${f.values.map((v) => (v.kind === 'message' ? `{${v.fields.map(one).join(',')}}` : foreignScalarText(v))).join(',')}]`;
  return fields.map(one).join(';');
}

function isSet(msg: Record<string, any>, name: string): boolean {
  if (!Object.prototype.hasOwnProperty.call(msg, name)) return false;
  const v = msg[name];
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
}

function scalarEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return a === b;
}

export function messagesEqual(a: Record<string, any>, b: Record<string, any>, type: PB.Type): boolean {
  for (const field of type.fieldsArray) {
    const sa = isSet(a, field.name);
    if (sa !== isSet(b, field.name)) return false;
    if (!sa) continue;
    field.resolve();
    const sub = field.resolvedType && !('values' in field.resolvedType) ? (field.resolvedType as PB.Type) : undefined;
    const va = field.repeated ? (a[field.name] as unknown[]) : [a[field.name]];
    const vb = field.repeated ? (b[field.name] as unknown[]) : [b[field.name]];
    if (va.length !== vb.length) return false;
    for (let i = 0; i < va.length; i++) {
      const ok = sub ? messagesEqual(va[i] as any, vb[i] as any, sub) : scalarEqual(va[i], vb[i]);
      if (!ok) return false;
    }
  }
  return foreignKey(foreignFields(a)) === foreignKey(foreignFields(b));
}
