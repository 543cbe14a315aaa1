// Small helpers shared by the upgrade steps: lazily created sub-messages (proto2 mutable_x()), labels for
// messages and the wording of the one log line each step writes.
import type * as PB from 'protobufjs';
import { has, typeOf, type Message } from '../schema.js';
import { positionOf } from '../../prototxt/side-tables.js';
import type { ErrorWhere } from '../../errors.js';

/** proto2 `mutable_<field>()`: the sub-message, created empty (and so marked set) when absent. */
export function subMessage(msg: Message, field: string): Message {
  if (has(msg, field)) return msg[field] as Message;
  const f = typeOf(msg).fields[field];
  if (!f) throw new Error(`${typeOf(msg).name} has no field '${field}'`);
  f.resolve();
  const type = f.resolvedType;
  if (!type || 'values' in type) throw new Error(`${typeOf(msg).name}.${field} is not a message field`);
  const sub = (type as PB.Type).create() as Message;
  msg[field] = sub;
  return sub;
}

/** `layers[3] "conv1"`: the element of a repeated layer list, named when it has a name. */
export function layerLabel(list: string, index: number, name: unknown): string {
  return typeof name === 'string' && name !== '' ? `${list}[${index}] "${name}"` : `${list}[${index}]`;
}

/** Where-information for a KdnetError about one layer of a net. */
export function layerWhere(list: string, index: number, layer: Message, name?: unknown, field?: string): ErrorWhere {
  const layerName = typeof name === 'string' && name !== '' ? name : undefined;
  return {
    layer: layerName,
    path: layerLabel(list, index, name) + (field ? `.${field}` : ''),
    position: positionOf(layer, field),
  };
}

/** ` in lenet.prototxt`, or nothing when the message did not come from a file. */
export function inSource(source: string | undefined): string {
  return source ? ` in ${source}` : '';
}

/** `1 layer`, `9 layers`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
