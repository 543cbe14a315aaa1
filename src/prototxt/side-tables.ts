// Facts about parsed messages that are not fields: where each came from in the text, and the fields the
// schema did not know (kept so they print back). They live under symbol keys, which protobufjs' encoder,
// toObject and JSON never see (a WeakMap here doubled parse time through GC cost). Positions are looked up
// in the syntax tree only when asked for (errors), so parsing allocates nothing extra.
import type { SourcePosition } from '../errors.js';
import type { AstField, AstMessage } from './ast.js';
import type { IToken } from 'chevrotain';

interface MessageOrigin {
  file?: string;
  ast: AstMessage;
}

const ORIGIN = Symbol('kdnet.origin');
const FOREIGN = Symbol('kdnet.foreign');

type Tagged = { [ORIGIN]?: MessageOrigin; [FOREIGN]?: AstField[] };

const origins = {
  get: (m: object) => (m as Tagged)[ORIGIN],
  set: (m: object, o: MessageOrigin) => {
    (m as Tagged)[ORIGIN] = o;
  },
};
const foreign = {
  get: (m: object) => (m as Tagged)[FOREIGN],
  set: (m: object, f: AstField[]) => {
    (m as Tagged)[FOREIGN] = f;
  },
  delete: (m: object) => {
    delete (m as Tagged)[FOREIGN];
  },
};

export function setOrigin(msg: object, ast: AstMessage, file?: string): void {
  origins.set(msg, { ast, file });
}

function tokenPosition(t: IToken | undefined, file: string | undefined): SourcePosition {
  return { file, line: t?.startLine ?? 1, column: t?.startColumn ?? 1 };
}

/** Position of a field occurrence (`index` for repeated fields), else of the message, else undefined. */
export function positionOf(msg: object, field?: string, index = 0): SourcePosition | undefined {
  const o = origins.get(msg);
  if (!o) return undefined;
  if (field !== undefined) {
    let seen = 0;
    let last: IToken | undefined;
    for (const f of o.ast.fields) {
      if (f.name !== field) continue;
      for (const v of f.values) {
        const t = f.list ? (v.kind === 'message' ? v.open : v.start) : f.nameToken;
        last = t;
        if (seen++ === index) return tokenPosition(t, o.file);
      }
    }
    if (last) return tokenPosition(last, o.file);
  }
  if (o.ast.open) return tokenPosition(o.ast.open, o.file);
  return { file: o.file, line: 1, column: 1 };
}

export function setForeignFields(msg: object, fields: AstField[]): void {
  if (fields.length) foreign.set(msg, fields);
  else foreign.delete(msg);
}

/** Fields of the text that the schema lacks (fork extensions), in source order. */
export function foreignFields(msg: object): AstField[] {
  return foreign.get(msg) ?? [];
}

/** Carries side-table facts from one message to its replacement (used by upgrades that rebuild messages). */
export function copySideTables(from: object, to: object): void {
  const o = origins.get(from);
  if (o) origins.set(to, o);
  const f = foreign.get(from);
  if (f) foreign.set(to, f);
}
