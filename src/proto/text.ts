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
import { isKnownLayerType } from '../layers/catalog.js';

export type CaffeMessageKind = 'NetParameter' | 'SolverParameter';

/**
 * Fields that well-known forks added to master's messages and that real files use. They are kept as written
 * (so files print back unchanged) with a warning; `upgrade/fork-fields.ts` maps those with a master
 * equivalent (e.g. `ceil_mode` → `round_mode`). Any other unknown field is an error.
 */
export const KNOWN_FORK_FIELDS: Record<string, Record<string, string>> = {
  SolverParameter: {
    eval_type: 'an SSD-fork solver field: ignored',
    ap_version: 'an SSD-fork solver field: ignored',
    show_per_class_result: 'an SSD-fork solver field: ignored',
  },
  PoolingParameter: {
    ceil_mode: "a fork field (not Caffe master's): upgraded to master's round_mode",
  },
  DataParameter: {
    shuffle: "a fork field (not Caffe master's): ignored, the database is read in order as in Caffe master",
  },
};

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
  ignoredField(type: PB.Type, name: string): string | undefined {
    const note = KNOWN_FORK_FIELDS[type.name]?.[name];
    return note ? `'${name}' is ${note}` : undefined;
  },
};

export interface ParsedMessage<T = Message> {
  message: T;
  warnings: Diagnostic[];
}

function diagnosticsToError(diags: Diagnostic[]): KdnetError {
  return KdnetError.combine(diags.map((d) => new KdnetError(d.message, { position: d.position, path: d.path || undefined })));
}

/** The syntax tree of Caffe text; every syntax error is thrown together as one KdnetError. */
export function parseCaffeAst(text: string, file?: string): AstMessage {
  const { ast, problems } = parseTextFormat(text);
  if (problems.length) {
    throw KdnetError.combine(
      problems.map((p) => new KdnetError(p.message, { position: { file, line: p.line, column: p.column } })),
    );
  }
  return ast;
}

/** A syntax tree bound to a Caffe message type (Caffe's policy for fork fields); errors thrown together. */
export function bindCaffeAst<T = Message>(ast: AstMessage, typeName: string, file?: string): ParsedMessage<T> {
  const { message, diagnostics } = bindMessage(ast, caffeType(typeName), { file, policy: caffePolicy });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw diagnosticsToError(errors);
  return { message: message as T, warnings: diagnostics.filter((d) => d.severity === 'warning') };
}

/** Parses Caffe text of a given message type; every error in the text is thrown together as one KdnetError. */
export function parseCaffeText<T = Message>(text: string, typeName: string, file?: string): ParsedMessage<T> {
  return bindCaffeAst<T>(parseCaffeAst(text, file), typeName, file);
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
