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
    const forType = ownEntry(KNOWN_FORK_FIELDS, type.name);
    const note = forType && ownEntry(forType, name);
    return note ? `'${name}' is ${note}` : undefined;
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
function parseOrThrow(text: string, file?: string): AstMessage {
  const { ast, problems, omitted, stoppedEarly } = parseTextFormat(text);
  if (problems.length) {
    const listed = problems.map((p) => ({ message: p.message, position: { file, line: p.line, column: p.column } }));
    throw problemsError(listed, stoppedEarly ? 'unknown' : omitted);
  }
  return ast;
}

function bindCaffeAst<T>(ast: AstMessage, typeName: string, file?: string): ParsedMessage<T> {
  const { message, diagnostics, omittedErrors } = bindMessage(ast, caffeType(typeName), {
    file,
    policy: caffePolicy,
    maxErrors: MAX_LISTED_PROBLEMS + 1,
  });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw problemsError(errors.map((d) => ({ ...d, path: d.path || undefined })), omittedErrors);
  return { message: message as T, warnings: diagnostics.filter((d) => d.severity === 'warning') };
}

/** Parses Caffe text of a given message type; every error in the text is thrown together as one KdnetError. */
export function parseCaffeText<T = Message>(text: string, typeName: string, file?: string): ParsedMessage<T> {
  return bindCaffeAst<T>(parseOrThrow(text, file), typeName, file);
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
  const ast = parseOrThrow(readTextFile(file), file);
  const kind = typeName ?? kindOf(ast);
  return { ...bindCaffeAst<T>(ast, kind, file), kind };
}

export function printCaffeText(message: Message, typeName: string): string {
  return printMessage(message, caffeType(typeName));
}
