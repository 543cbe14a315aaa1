// How syntax problems are worded, placed and counted: chevrotain's errors in the words of the text format,
// the end-of-file position, and a list that keeps the first problems and counts the rest.
import type { IToken, IRecognitionException } from 'chevrotain';
import type { AstMessage } from './ast.js';
import { clipText } from './strings.js';

export interface SyntaxProblem {
  message: string;
  line: number;
  column: number;
}

/**
 * Problems listed in full; the rest are counted. The grammar also stops after this many errors: chevrotain's
 * recovery after a burst of errors is work nobody reads, and its in-repetition recovery recurses once per
 * error, so the cap bounds the stack too.
 */
export const MAX_LISTED_PROBLEMS = 20;

export interface ParseResult {
  /** The syntax tree; when there are problems, only what could be read (possibly nothing). */
  ast: AstMessage;
  /** The first problems in text order: MAX_LISTED_PROBLEMS of them and the next one, if there are more. */
  problems: SyntaxProblem[];
  /** How many problems were found beyond `problems`. */
  omitted: number;
  /** The grammar stopped reading (after MAX_LISTED_PROBLEMS errors, or out of stack), so more may follow. */
  stoppedEarly: boolean;
}

/**
 * Keeps the first problems of each kind (each kind arrives in text order) and counts the rest, so 100,000
 * stray characters cost a count, not 100,000 messages.
 */
export class ProblemList {
  private kept: SyntaxProblem[] = [];
  private total = 0;

  add<T>(items: readonly T[], describe: (item: T) => SyntaxProblem): void {
    const n = Math.min(items.length, MAX_LISTED_PROBLEMS + 1);
    for (let i = 0; i < n; i++) this.kept.push(describe(items[i]!));
    this.total += items.length;
  }

  result(ast: AstMessage, stoppedEarly: boolean): ParseResult {
    const problems = this.kept.sort((a, b) => a.line - b.line || a.column - b.column).slice(0, MAX_LISTED_PROBLEMS + 1);
    return { ast, problems, omitted: this.total - problems.length, stoppedEarly };
  }
}

function describeToken(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'end of file';
  return `'${clipText(t.image)}'`;
}

export function explain(e: IRecognitionException, opener: IToken | undefined): string {
  const message = grammarMessage(e, opener);
  // A file that ends inside a block was most likely cut off: say which block is still open.
  if (e.token.tokenType.name === 'EOF' && opener && !message.startsWith('missing')) {
    return `${message} ('${opener.image}' opened at ${opener.startLine}:${opener.startColumn} is still open)`;
  }
  return message;
}

function grammarMessage(e: IRecognitionException, opener: IToken | undefined): string {
  const t = e.token;
  const found = describeToken(t);
  switch (e.name) {
    case 'MismatchedTokenException': {
      const m = /Expecting (?:token of type )?--> (.*?) <--/.exec(e.message);
      const expected = m?.[1] ?? 'something else';
      if (expected === "'}'" || expected === "'>'") {
        const where = opener ? ` to close '${opener.image}' opened at ${opener.startLine}:${opener.startColumn}` : '';
        return `missing ${expected}${where}; found ${found}`;
      }
      if (expected === 'EOF') return `expected a field name but found ${found}`;
      return `expected ${expected} but found ${found}`;
    }
    case 'NoViableAltException':
      if (['field', 'scalarValue', 'listElement'].includes(e.context.ruleStack.at(-1) ?? '')) {
        return `expected a value (number, string, identifier, '{' or '[') but found ${found}`;
      }
      return `unexpected ${found}`;
    case 'NotAllInputParsedException':
      return t.image === '}' || t.image === '>' ? `unmatched ${found}` : `expected a field name but found ${found}`;
    case 'EarlyExitException':
      return `expected at least one value but found ${found}`;
    default:
      return `${e.message} (found ${found})`;
  }
}

/** Each grammar error once (recovery can report one twice). */
export function distinct(ps: SyntaxProblem[]): SyntaxProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.line}:${p.column}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function lexMessage(text: string, offset: number, length: number): string {
  const c = text[offset] ?? '';
  if (c === '"' || c === "'") return 'unterminated string (strings cannot span lines)';
  const snippet = text
    .slice(offset, offset + Math.min(length, 20))
    .split(/[\r\n]/)[0]!
    .replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `unexpected character${length > 1 ? 's' : ''} '${snippet}'`;
}

export function endOfText(text: string): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: text.length - lineStart + 1 };
}
