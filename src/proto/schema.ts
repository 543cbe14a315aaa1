// Loads proto/caffe.proto once with protobufjs reflection and hands out message types.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import type * as PB from 'protobufjs';

const require = createRequire(import.meta.url);
// protobufjs is CommonJS; load it through require so its util.Long can be switched off before any use.
const protobuf: typeof PB = require('protobufjs');

// Caffe's int64 fields (blob dims, random_seed) never exceed 2^53: plain numbers are simpler than Long objects.
(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();

export { protobuf };
export type Message = PB.Message<Record<string, unknown>> & Record<string, any>;
export type Type = PB.Type;
export type Field = PB.Field;
export type Enum = PB.Enum;

function findSchemaFile(): string {
  // Works from src/ (tests, tsx) and from dist/ (built package): walk up to the folder holding proto/.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'proto', 'caffe.proto');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('proto/caffe.proto not found next to the kdnet package');
}

let root: PB.Root | undefined;

export function caffeRoot(): PB.Root {
  if (!root) {
    root = new protobuf.Root().loadSync(findSchemaFile(), { keepCase: true });
    root.resolveAll();
  }
  return root;
}

export function caffeType(name: string): PB.Type {
  return caffeRoot().lookupType(name.startsWith('caffe.') ? name : `caffe.${name}`);
}

export function caffeEnum(name: string): PB.Enum {
  return caffeRoot().lookupEnum(name.startsWith('caffe.') ? name : `caffe.${name}`);
}

/** A new empty message of a Caffe type; unset fields read their defaults through the prototype. */
export function newMessage<T = Message>(typeName: string, fields?: Record<string, unknown>): T {
  const type = caffeType(typeName);
  const msg = type.create() as unknown as Record<string, unknown>;
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) msg[k] = v;
  return msg as T;
}

/** proto2 has_field(): an own property set by the parser, decoder or code (repeated: non-empty). */
export function has(msg: object, field: string): boolean {
  if (!Object.prototype.hasOwnProperty.call(msg, field)) return false;
  const v = (msg as Record<string, unknown>)[field];
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null;
}

/** Clears a field back to "not set" (proto2 clear_field()). */
export function clear(msg: object, field: string): void {
  const rec = msg as Record<string, unknown>;
  if (Array.isArray(rec[field]) && Object.prototype.hasOwnProperty.call(msg, field)) rec[field] = [];
  else delete rec[field];
}

/** The reflection type of a message instance. */
export function typeOf(msg: object): PB.Type {
  const t = (msg as { $type?: PB.Type }).$type;
  if (!t) throw new Error('not a protobufjs message instance');
  return t;
}
