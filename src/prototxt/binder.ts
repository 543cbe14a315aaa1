// Syntax tree + protobufjs reflection type → message. Schema-directed: every value is checked against the
// field's type, and every problem is collected with its position and field path.
import type * as PB from 'protobufjs';
import type { IToken } from 'chevrotain';
import type { AstField, AstMessage, AstScalar, AstValue } from './ast.js';
import { setForeignFields, setOrigin } from './side-tables.js';
import { closest } from './suggest.js';
import { bytesToText, clipText } from './strings.js';
import type { SourcePosition } from '../errors.js';

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  position: SourcePosition;
  /** Field path, e.g. `layer[3] "conv2".convolution_param.kernel_size`. */
  path: string;
}

export interface BindPolicy {
  /**
   * Called for a message about to be bound: true makes unknown fields anywhere inside it foreign-but-kept
   * (no diagnostic). Used for layers of types Caffe master lacks, whose parameters belong to a fork.
   */
  lenientMessage?(type: PB.Type, ast: AstMessage): boolean;
  /** A warning text when an unknown field is deliberately ignored (kept), or undefined to make it an error. */
  ignoredField?(type: PB.Type, name: string): string | undefined;
  /** What is known about an unknown field that stays an error (e.g. the fork that added it), said instead of a guess. */
  unknownFieldNote?(type: PB.Type, name: string): string | undefined;
}

interface Context {
  file?: string;
  policy: BindPolicy;
  diagnostics: Diagnostic[];
  /** Errors past this many are counted, not described (a did-you-mean per error is costly at 100,000). */
  maxErrors: number;
  errors: number;
}

const INT_LIMITS: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

const TRUE_WORDS = new Set(['true', 't', 'True']);
const FALSE_WORDS = new Set(['false', 'f', 'False']);

/** `obj[key]` only when it is obj's own entry: names from the text must never reach Object.prototype. */
export function ownEntry<T>(obj: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function pos(ctx: Context, t: IToken | undefined): SourcePosition {
  return { file: ctx.file, line: t?.startLine ?? 1, column: t?.startColumn ?? 1 };
}

function describeValue(v: AstValue): string {
  if (v.kind === 'message') return 'a message block';
  return `'${clipText(`${v.negative ? '-' : ''}${v.token.image}`)}'`;
}

function scalarTypeName(field: PB.Field): string {
  if (field.resolvedType && 'values' in field.resolvedType) return `enum ${field.resolvedType.name}`;
  return field.type;
}

/** The layer-style label of a repeated element: `[3] "conv2"` when the element has a string `name` field. */
function elementLabel(index: number, v: AstValue): string {
  if (v.kind === 'message') {
    for (const f of v.fields) {
      if (f.name === 'name' && f.values[0]?.kind === 'scalar' && f.values[0].bytes !== undefined) {
        return `[${index}] "${bytesToText(f.values[0].bytes)}"`;
      }
    }
  }
  return `[${index}]`;
}

export function bindMessage(
  ast: AstMessage,
  type: PB.Type,
  options: { file?: string; policy?: BindPolicy; maxErrors?: number } = {},
): { message: Record<string, any>; diagnostics: Diagnostic[]; omittedErrors: number } {
  const maxErrors = options.maxErrors ?? Infinity;
  const ctx: Context = { file: options.file, policy: options.policy ?? {}, diagnostics: [], maxErrors, errors: 0 };
  const message = bind(ctx, ast, type, () => '', false);
  return { message, diagnostics: ctx.diagnostics, omittedErrors: Math.max(0, ctx.errors - maxErrors) };
}

/**
 * A field path built only when a diagnostic needs it (string building per field would dominate parse time).
 */
type LazyPath = () => string;

function join(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

function bind(ctx: Context, ast: AstMessage, type: PB.Type, path: LazyPath, lenient: boolean): Record<string, any> {
  const msg = type.create() as unknown as Record<string, any>;
  lenient ||= ctx.policy.lenientMessage?.(type, ast) ?? false;
  let foreign: AstField[] | undefined;
  const fields = type.fields;
  const diag = (message: string | (() => string), at: IToken | undefined, f: AstField, element?: [number, AstValue]) => {
    if (++ctx.errors > ctx.maxErrors) return;
    const p = join(path(), f.name) + (element ? elementLabel(element[0], element[1]) : '');
    const text = typeof message === 'string' ? message : message();
    ctx.diagnostics.push({ severity: 'error', message: text, position: pos(ctx, at), path: p });
  };

  for (const f of ast.fields) {
    const field = f.extension ? lookupExtension(type, f.name) : ownEntry(fields, f.name);
    if (!field) {
      (foreign ??= []).push(f);
      if (lenient) continue;
      const ignored = ctx.policy.ignoredField?.(type, f.name);
      if (ignored !== undefined) {
        ctx.diagnostics.push({ severity: 'warning', message: ignored, position: pos(ctx, f.nameToken), path: join(path(), f.name) });
        continue;
      }
      diag(() => {
        const note = ctx.policy.unknownFieldNote?.(type, f.name);
        const guess = note ? undefined : closest(f.name, Object.keys(fields));
        return `unknown field '${f.name}' in ${type.name}` + (note ? `: ${note}` : guess ? `; did you mean '${guess}'?` : '');
      }, f.nameToken, f);
      continue;
    }
    field.resolve();
    const resolved = field.resolvedType;
    const subType = resolved && !('values' in resolved) ? (resolved as PB.Type) : undefined;

    if (f.list && !field.repeated) {
      diag(`field '${f.name}' is not repeated: a [list] is not allowed`, f.nameToken, f);
      continue;
    }
    if (!field.repeated && (f.values.length > 1 || Object.prototype.hasOwnProperty.call(msg, field.name))) {
      diag(() => {
        const firstToken = ast.fields.find((x) => x.name === f.name)?.nameToken;
        const first = firstToken && firstToken !== f.nameToken ? ` (first at ${firstToken.startLine}:${firstToken.startColumn})` : '';
        return `non-repeated field '${f.name}' is given more than once${first}`;
      }, f.nameToken, f);
      continue;
    }
    // protobuf requires ':' before scalar values, an empty list `name []` included.
    if (!subType && !f.colon && f.values[0]?.kind !== 'message') {
      diag(`expected ':' between field '${f.name}' and its value`, f.nameToken, f);
      continue;
    }

    const target = field.repeated ? (msg[field.name] as unknown[]) : undefined;
    for (const v of f.values) {
      const element: [number, AstValue] | undefined = target ? [target.length, v] : undefined;
      if (subType) {
        if (v.kind !== 'message') {
          diag(`field '${f.name}' is a message (${subType.name}): expected '{' but found ${describeValue(v)}`, v.start, f, element);
          continue;
        }
        const subPath: LazyPath = () => join(path(), f.name) + (element ? elementLabel(element[0], element[1]) : '');
        const sub = bind(ctx, v, subType, subPath, lenient);
        if (target) target.push(sub);
        else msg[field.name] = sub;
      } else {
        if (v.kind === 'message') {
          diag(`field '${f.name}' holds a ${scalarTypeName(field)}, not a message`, v.open, f, element);
          continue;
        }
        const converted = convertScalar(field, v);
        if (typeof converted === 'object' && converted !== null && 'problem' in converted) {
          diag(converted.problem, v.start, f, element);
          continue;
        }
        if (target) target.push(converted);
        else msg[field.name] = converted;
      }
    }
  }
  setOrigin(msg, ast, ctx.file);
  if (foreign) setForeignFields(msg, foreign);
  return msg;
}

function lookupExtension(type: PB.Type, name: string): PB.Field | undefined {
  try {
    const found = type.root.lookup(name);
    if (found && 'extend' in found && (found as PB.Field).extend) return found as PB.Field;
  } catch {
    /* not found */
  }
  return undefined;
}

/** A value, or what is wrong with it (worded only when reported: the did-you-mean costs). */
type Converted = number | boolean | string | Uint8Array | { problem: string | (() => string) };

function parseInteger(s: AstScalar): bigint | undefined {
  if (s.token.tokenType.name !== 'IntLiteral') return undefined;
  const img = s.token.image;
  // Plain decimals (nearly all of them) skip the BigInt path; 15 digits stay exact in a double.
  if (img.length < 16 && (img[0] !== '0' || img.length === 1) && img.charCodeAt(1) !== 120 && img.charCodeAt(1) !== 88) {
    const n = Number(img);
    return BigInt(s.negative ? -n : n);
  }
  let v: bigint;
  if (/^0[xX]/.test(img)) v = BigInt(img);
  else if (img.length > 1 && img[0] === '0') {
    if (!/^[0-7]+$/.test(img)) return undefined;
    v = BigInt('0o' + img.slice(1));
  } else v = BigInt(img);
  return s.negative ? -v : v;
}

function parseFloating(s: AstScalar): number | undefined {
  const kind = s.token.tokenType.name;
  const img = s.token.image;
  let v: number;
  if (kind === 'IntLiteral') {
    // protobuf reads floats from decimal integers only: `0x10` and `010` are errors for a float field.
    if (/^0./.test(img)) return undefined;
    v = Number(img);
  } else if (kind === 'FloatLiteral') {
    v = Number(img.replace(/[fF]$/, ''));
  } else if (kind === 'Identifier') {
    const w = img.toLowerCase();
    if (w === 'inf' || w === 'infinity') v = Infinity;
    else if (w === 'nan') v = NaN;
    else return undefined;
  } else return undefined;
  return s.negative ? -v : v;
}

function convertScalar(field: PB.Field, s: AstScalar): Converted {
  const kind = s.token.tokenType.name;
  const shown = clipText(`${s.negative ? '-' : ''}${s.token.image}`);
  const resolved = field.resolvedType;
  if (resolved && 'values' in resolved) {
    const en = resolved as PB.Enum;
    if (kind === 'Identifier' && !s.negative) {
      const v = ownEntry(en.values, s.token.image);
      if (v !== undefined) return v;
      return {
        problem: () => {
          const names = Object.keys(en.values);
          const guess = closest(s.token.image, names);
          // Short enums are listed in full; long ones (V1 LayerType) only get the suggestion.
          const listed = names.length <= 12 ? ` (one of ${names.join(', ')})` : '';
          return `'${clipText(s.token.image)}' is not a value of enum ${en.name}` + (guess ? `; did you mean '${guess}'?` : '') + listed;
        },
      };
    }
    const i = parseInteger(s);
    if (i !== undefined) {
      const n = Number(i);
      if (Object.values(en.values).includes(n)) return n;
      return { problem: `${shown} is not a number of enum ${en.name} (one of ${Object.entries(en.values).map(([k, v]) => `${k}=${v}`).join(', ')})` };
    }
    return { problem: `field '${field.name}' expects a value of enum ${en.name}, found '${shown}'` };
  }
  switch (field.type) {
    case 'double':
    case 'float': {
      const v = parseFloating(s);
      if (v === undefined) {
        const octalOrHex = kind === 'IntLiteral' && /^0./.test(s.token.image);
        return { problem: `field '${field.name}' expects a ${octalOrHex ? 'decimal ' : ''}number (${field.type}), found '${shown}'` };
      }
      return field.type === 'float' ? Math.fround(v) : v;
    }
    case 'bool': {
      if (!s.negative && kind === 'Identifier') {
        if (TRUE_WORDS.has(s.token.image)) return true;
        if (FALSE_WORDS.has(s.token.image)) return false;
      }
      if (!s.negative && kind === 'IntLiteral') {
        const i = parseInteger(s);
        if (i === 0n || i === 1n) return i === 1n;
      }
      return { problem: `field '${field.name}' expects true or false, found '${shown}'` };
    }
    case 'string':
    case 'bytes': {
      if (s.bytes === undefined) {
        return { problem: `field '${field.name}' expects a quoted string, found '${shown}'` };
      }
      return field.type === 'string' ? bytesToText(s.bytes) : Buffer.from(s.bytes, 'latin1');
    }
    default: {
      const limits = INT_LIMITS[field.type];
      if (!limits) return { problem: `field '${field.name}' has a type kdnet cannot read (${field.type})` };
      if (kind === 'FloatLiteral') {
        return { problem: `field '${field.name}' expects an integer (${field.type}), found '${shown}'` };
      }
      const i = parseInteger(s);
      if (i === undefined) {
        return { problem: `field '${field.name}' expects an integer (${field.type}), found '${shown}'` };
      }
      if (i < limits[0] || i > limits[1]) {
        return { problem: `value ${shown} is out of range for field '${field.name}' (${field.type}: ${limits[0]} to ${limits[1]})` };
      }
      return Number(i);
    }
  }
}
