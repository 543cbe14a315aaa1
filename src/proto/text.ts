// Caffe text files → messages: the generic text-format front end plus Caffe's policy for fork files.
import fs from 'node:fs';
import type * as PB from 'protobufjs';
import { MAX_LISTED_PROBLEMS, parseTextFormat } from '../prototxt/parser.js';
import { bindMessage, ownEntry, type BindPolicy, type Diagnostic } from '../prototxt/binder.js';
import type { AstMessage } from '../prototxt/ast.js';
import { bytesToText } from '../prototxt/strings.js';
import { printMessage } from '../prototxt/printer.js';
import { caffeType, type Message } from './schema.js';
import { KdnetError, type SourcePosition } from '../errors.js';
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

interface Problem {
  message: string;
  position?: SourcePosition;
  path?: string;
}

/**
 * One KdnetError for the problems of a text: the first MAX_LISTED_PROBLEMS, then one line counting the rest
 * (`omitted` more beyond the list, or, when the parser stopped early, a note that more may follow), so a broken
 * file prints a screenful, not 100,000 lines.
 */
function problemsError(problems: Problem[], omitted: number | 'unknown' = 0): KdnetError {
  const shown = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => new KdnetError(p.message, { position: p.position, path: p.path }));
  const rest = omitted === 'unknown' ? 0 : problems.length - shown.length + omitted;
  if (rest > 0 || omitted === 'unknown') {
    const next = problems[MAX_LISTED_PROBLEMS] ?? problems.at(-1)!;
    const message =
      omitted === 'unknown' ? '… and maybe more: reading stopped after these syntax errors' : `… and ${rest} more problem${rest > 1 ? 's' : ''}`;
    shown.push(new KdnetError(message, { position: next.position }));
  }
  return KdnetError.combine(shown);
}

/** The syntax tree of a text, or every syntax problem in it thrown as one KdnetError. */
export function parseCaffeAst(text: string, file?: string): AstMessage {
  const { ast, problems, omitted, stoppedEarly } = parseTextFormat(text);
  if (problems.length) {
    const listed = problems.map((p) => ({ message: p.message, position: { file, line: p.line, column: p.column } }));
    throw problemsError(listed, stoppedEarly ? 'unknown' : omitted);
  }
  return ast;
}

/** A syntax tree bound to a Caffe message type (Caffe's policy for fork fields); errors thrown together. */
export function bindCaffeAst<T = Message>(ast: AstMessage, typeName: string, file?: string): ParsedMessage<T> {
  const { message, diagnostics, omittedErrors } = bindMessage(ast, caffeType(typeName), {
    file,
    policy: caffePolicy,
    maxErrors: MAX_LISTED_PROBLEMS + 1,
  });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    const error = problemsError(errors.map((d) => ({ ...d, path: d.path || undefined })), omittedErrors);
    const also = typeName === 'NetParameter' ? forkLayersOf(message as Message) : [];
    throw also.length ? KdnetError.combine([error, ...also]) : error;
  }
  return { message: message as T, warnings: diagnostics.filter((d) => d.severity === 'warning') };
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
  return bindCaffeAst<T>(parseCaffeAst(text, file), typeName, file);
}

/** Which of NetParameter / SolverParameter a syntax tree is, judged by its top-level field names. */
function kindOf(ast: AstMessage): CaffeMessageKind {
  const net = caffeType('NetParameter').fields;
  const solver = caffeType('SolverParameter').fields;
  let netVotes = 0;
  let solverVotes = 0;
  for (const f of ast.fields) {
    if (f.name === undefined) continue;
    if (ownEntry(net, f.name)) netVotes++;
    if (ownEntry(solver, f.name)) solverVotes++;
  }
  return solverVotes > netVotes ? 'SolverParameter' : 'NetParameter';
}

/** Which of NetParameter / SolverParameter a text is (NetParameter when it does not parse). */
export function detectKind(text: string): CaffeMessageKind {
  return kindOf(parseTextFormat(text).ast);
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
  const ast = parseCaffeAst(readTextFile(file), file);
  const kind = typeName ?? kindOf(ast);
  return { ...bindCaffeAst<T>(ast, kind, file), kind };
}

export function printCaffeText(message: Message, typeName: string): string {
  return printMessage(message, caffeType(typeName));
}
