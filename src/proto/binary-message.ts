// Binary protobuf files a user hands kdnet (.caffemodel, .solverstate, .binaryproto): one clear error for a
// file that is not the message (garbage, text, another format) or was cut short, as Caffe's
// "Failed to parse NetParameter file" but saying where.
import fs from 'node:fs';
import { caffeType, type Message, type Type } from './schema.js';
import { isDeclaredField, leadingName, scanTopLevel, type TopLevelField } from './wire-check.js';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { renumberForkLayerFields } from './fork-binary.js';

/** A file's bytes, or one error saying why it cannot be read (missing, a folder, no permission). */
export function readUserBytes(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new KdnetError(`cannot read ${what} ${file}: ${unreadableReason(e)}`);
  }
}

export function unreadableReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (e as Error).message;
}

export function readBinaryMessage(file: string, typeName: string): Message {
  return decodeBinaryMessage(readUserBytes(file, `the ${typeName} file`), typeName, file);
}

export function decodeBinaryMessage(raw: Uint8Array, typeName: string, file: string): Message {
  // The distillation forks' layer parameters sit at field numbers master gives to other parameters.
  const bytes = typeName === 'NetParameter' ? renumberForkLayerFields(raw, file) : raw;
  const notIt = (why: string) => new KdnetError(`${file}: not a binary ${typeName} file: ${why}`);
  const type = caffeType(typeName);
  const scan = scanTopLevel(bytes, (f) => (type.fieldsById[f] ? `${type.fieldsById[f]!.name} record` : `field ${f}`));
  if (!scan.ok) throw notIt(scan.problem);
  const foreign = scan.fields.filter((f) => !isDeclaredField(type, f));
  if (foreign.length) {
    // Forks add fields (kept as unknown, as Caffe does); a file whose only known parts are a name or a
    // number is not one of these messages.
    const substantive = scan.fields.some((f) => f.wireType === 2 && isDeclaredField(type, f) && !['string', 'bytes'].includes(type.fieldsById[f.field]!.type));
    const listed = foreign.slice(0, 3).map((f) => `field ${f.field} at byte ${f.offset}`).join(', ');
    if (!substantive) throw notIt(`${foreign.length} of its ${scan.fields.length} top-level fields are not ${typeName} fields (${listed}${foreign.length > 3 ? ', ...' : ''})`);
    log.warn(`${file}: skipping ${foreign.length} top-level field${foreign.length > 1 ? 's' : ''} that ${typeName} does not declare (${listed}${foreign.length > 3 ? ', ...' : ''})`);
  }
  try {
    return type.decode(bytes) as unknown as Message;
  } catch (e) {
    throw notIt(`${failingRecord(type, bytes, scan.fields) ?? ''}${(e as Error).message}`);
  }
}

/** Which top-level record (a layer, a history blob) fails to decode, named as far as its bytes allow. */
function failingRecord(type: Type, bytes: Uint8Array, fields: TopLevelField[]): string | undefined {
  const seen = new Map<number, number>();
  for (const f of fields) {
    const declared = type.fieldsById[f.field];
    const index = seen.get(f.field) ?? 0;
    seen.set(f.field, index + 1);
    const inner = declared?.resolvedType;
    if (!inner || f.wireType !== 2 || 'values' in inner) continue;
    try {
      (inner as Type).decode(bytes.subarray(f.start, f.end));
    } catch {
      const name = leadingName(bytes, f.start);
      return `${declared.name}[${index}]${name ? ` "${name}"` : ''} (bytes ${f.offset} to ${f.end}): `;
    }
  }
  return undefined;
}
