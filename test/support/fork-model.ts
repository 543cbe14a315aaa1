// Raw protobuf wire bytes of .caffemodel files as the distillation forks' Caffe wrote them (their own field
// numbers), written with protobufjs' Writer so that no kdnet code takes part in making the input.
import { protobuf } from '../../src/proto/schema.js';

export type Writer = ReturnType<typeof protobuf.Writer.create>;
export const LEN = 2;
export const F32 = 5;
export const VARINT = 0;
export const tag = (field: number, wire: number) => (field << 3) | wire;

/** A NetParameter.layer entry: name, type, bottoms, one top `<name>_out` unless `tops` is given, then `extra`. */
export function layer(w: Writer, name: string, type: string, bottoms: string[], extra: (w: Writer) => void, tops = [`${name}_out`]): void {
  w.uint32(tag(100, LEN)).fork();
  w.uint32(tag(1, LEN)).string(name).uint32(tag(2, LEN)).string(type);
  for (const b of bottoms) w.uint32(tag(3, LEN)).string(b);
  for (const t of tops) w.uint32(tag(4, LEN)).string(t);
  extra(w);
  w.ldelim();
}

/** A parameter message {field 1: float} at `field` (plus an unknown varint field 7, to show nothing is dropped). */
export function floatParam(w: Writer, field: number, value: number, unknown?: number): void {
  w.uint32(tag(field, LEN)).fork().uint32(tag(1, F32)).float(value);
  if (unknown !== undefined) w.uint32(tag(7, VARINT)).uint32(unknown);
  w.ldelim();
}

/** A BlobProto with a 1-D shape. */
export function blob(w: Writer, values: number[]): void {
  w.uint32(tag(7, LEN)).fork();
  w.uint32(tag(7, LEN)).fork().uint32(tag(1, VARINT)).int64(values.length).ldelim(); // shape { dim }
  w.uint32(tag(5, LEN)).fork();
  for (const v of values) w.float(v);
  w.ldelim().ldelim();
}
