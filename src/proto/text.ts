// Caffe text files → messages: the generic text-format front end plus Caffe's policy for fork files.
import fs from 'node:fs';
import type * as PB from 'protobufjs';
import { parseTextFormat } from '../prototxt/parser.js';
import { bindMessage, type BindPolicy, type Diagnostic } from '../prototxt/binder.js';
import type { AstMessage } from '../prototxt/ast.js';
import { bytesToText } from '../prototxt/strings.js';
import { printMessage } from '../prototxt/printer.js';
import { caffeType, type Message } from './schema.js';
import { KdnetError } from '../errors.js';
import { positionOf } from '../prototxt/side-tables.js';
import { isKnownLayerType } from '../layers/catalog.js';
import { forkField, forkTypesError, layerLabel } from './forks.js';

export type CaffeMessageKind = 'NetParameter' | 'SolverParameter';

function stringField(ast: AstMessage, name: string): string | undefined {
  for (const f of ast.fields) {
    const v = f.values[0];
    if (f.name === name && v?.kind === 'scalar' && v.bytes !== undefined) return bytesToText(v.bytes);
  }
  return undefined;
}

export const caffePolicy: BindPolicy = {
  // A layer of a type Caffe master lacks belongs to a fork: its fork-only parameters are kept, not judged.
  // The type itself is reported when the net is checked or built.
  lenientMessage(type: PB.Type, ast: AstMessage): boolean {
    if (type.name !== 'LayerParameter') return false;
    const layerType = stringField(ast, 'type');
    return layerType !== undefined && !isKnownLayerType(layerType);
  },
  // Fields forks added to master's messages (./forks.ts): those kdnet handles are kept as written (so files
  // print back unchanged) with a warning, and upgrade/fork-fields.ts maps those with a master equivalent;
  // any other unknown field is an error, naming the fork when it is well known.
  ignoredField(type: PB.Type, name: string): string | undefined {
    const f = forkField(type.name, name);
    return f?.handling ? `'${name}' is a field of ${f.fork ?? 'a Caffe fork'}, not of Caffe master: ${f.handling}` : undefined;
  },
  unknownFieldNote(type: PB.Type, name: string): string | undefined {
    const f = forkField(type.name, name);
    return f?.fork ? `it is a field of ${f.fork}, not of Caffe master, and kdnet has no equivalent for it` : undefined;
  },
};

export interface ParsedMessage<T = Message> {
  message: T;
  warnings: Diagnostic[];
}

function diagnosticsToError(diags: Diagnostic[], also: KdnetError[] = []): KdnetError {
  return KdnetError.combine([...diags.map((d) => new KdnetError(d.message, { position: d.position, path: d.path || undefined })), ...also]);
}

/**
 * When a net does not bind, what else in it a user porting a fork's file needs to know in the same report:
 * the layer types Caffe master lacks (with their forks) and the Python layers.
 */
function forkLayersOf(net: Message): KdnetError[] {
  const layers = (net.layer ?? []) as Message[];
  const out: KdnetError[] = [];
  const forkTypes = forkTypesError(layers);
  if (forkTypes) out.push(forkTypes);
  const python = layers.filter((l) => l.type === 'Python');
  if (python.length) {
    const n = python.length;
    out.push(new KdnetError(`the net also has ${n} Python layer${n > 1 ? 's' : ''}, which Caffe runs in its embedded Python: ${python.map(layerLabel).join(', ')}`, { position: positionOf(python[0]!) }));
  }
  return out;
}

/** Parses Caffe text of a given message type; every error in the text is thrown together as one KdnetError. */
export function parseCaffeText<T = Message>(text: string, typeName: string, file?: string): ParsedMessage<T> {
  const { ast, problems } = parseTextFormat(text);
  if (problems.length) {
    throw KdnetError.combine(
      problems.map((p) => new KdnetError(p.message, { position: { file, line: p.line, column: p.column } })),
    );
  }
  const { message, diagnostics } = bindMessage(ast, caffeType(typeName), { file, policy: caffePolicy });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    const also = typeName === 'NetParameter' ? forkLayersOf(message as Message) : [];
    throw diagnosticsToError(errors, also);
  }
  return { message: message as T, warnings: diagnostics.filter((d) => d.severity === 'warning') };
}

/** Which of NetParameter / SolverParameter a text is, judged by its top-level field names. */
export function detectKind(text: string): CaffeMessageKind {
  const { ast } = parseTextFormat(text);
  const net = caffeType('NetParameter').fields;
  const solver = caffeType('SolverParameter').fields;
  let netVotes = 0;
  let solverVotes = 0;
  for (const f of ast.fields) {
    if (f.name in net) netVotes++;
    if (f.name in solver) solverVotes++;
  }
  return solverVotes > netVotes ? 'SolverParameter' : 'NetParameter';
}

export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new KdnetError(`cannot read ${file}: ${why}`);
  }
}

export function readCaffeTextFile<T = Message>(file: string, typeName?: CaffeMessageKind): ParsedMessage<T> & { kind: CaffeMessageKind } {
  const text = readTextFile(file);
  const kind = typeName ?? detectKind(text);
  return { ...parseCaffeText<T>(text, kind, file), kind };
}

export function printCaffeText(message: Message, typeName: string): string {
  return printMessage(message, caffeType(typeName));
}
