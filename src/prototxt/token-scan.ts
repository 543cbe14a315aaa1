// Linear passes over the token list, outside the grammar: the nesting limit (checked before chevrotain runs, so
// its recursive descent never goes deeper than protobuf's own parser would), numbers protobuf would not read,
// and the '{' or '<' each syntax error left open (one pass for all errors, not one per error).
import type { IToken } from 'chevrotain';
import { clipText } from './strings.js';
import { BadNumber, LAngle, LCurly, NUMBER_PREFIX, RAngle, RCurly } from './lexer.js';

/** protobuf's TextFormat parser refuses messages nested deeper than this (its default recursion limit). */
export const NESTING_LIMIT = 100;

export interface TokenProblem {
  message: string;
  token: IToken;
  /** The token after it, where the grammar's own complaint would only echo this problem. */
  next?: IToken;
}

export function nestingMessage(): string {
  return `nesting deeper than ${NESTING_LIMIT} levels (protobuf's limit)`;
}

/**
 * The first '{' or '<' that opens level NESTING_LIMIT + 1. A closer ends the innermost open level whatever
 * its kind (the grammar reports mismatches), and a stray closer at the top level is ignored here.
 */
export function tooDeep(tokens: IToken[]): TokenProblem | undefined {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const type = tokens[i]!.tokenType;
    if (type === LCurly || type === LAngle) {
      if (++depth > NESTING_LIMIT) return { message: nestingMessage(), token: tokens[i]! };
    } else if ((type === RCurly || type === RAngle) && depth > 0) depth--;
  }
  return undefined;
}

/** Each number token protobuf's tokenizer would reject (see BadNumber). */
export function badNumbers(tokens: IToken[]): TokenProblem[] {
  const out: TokenProblem[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType !== BadNumber) continue;
    const prefix = NUMBER_PREFIX.exec(t.image)?.[0] ?? '';
    const rest = t.image.slice(prefix.length);
    // `3pad` lacks a space; `1e`, `0x`, `017f` are malformed numbers, not two words.
    const why = prefix && /^[A-Za-z_][A-Za-z0-9_]+$/.test(rest) ? `; a space is needed between the number '${clipText(prefix)}' and '${clipText(rest)}'` : '';
    out.push({ message: `'${clipText(t.image)}' is not a number${why}`, token: t, next: tokens[i + 1] });
  }
  return out;
}

/**
 * For each token in `at` (syntax-error tokens, few), the innermost '{' or '<' still open just before it.
 * One pass over the tokens; the end-of-file token (no offset) sees everything.
 */
export function openersBefore(tokens: IToken[], at: IToken[]): Map<IToken, IToken | undefined> {
  const result = new Map<IToken, IToken | undefined>();
  const offsetOf = (t: IToken) => (Number.isNaN(t.startOffset) || t.tokenType.name === 'EOF' ? Infinity : t.startOffset);
  const pending = [...new Set(at)].sort((a, b) => offsetOf(a) - offsetOf(b));
  const stack: IToken[] = [];
  let next = 0;
  for (const tok of tokens) {
    while (next < pending.length && offsetOf(pending[next]!) <= tok.startOffset) result.set(pending[next++]!, stack.at(-1));
    if (next === pending.length) break;
    if (tok.tokenType === LCurly || tok.tokenType === LAngle) stack.push(tok);
    else if (tok.tokenType === RCurly || tok.tokenType === RAngle) stack.pop();
  }
  while (next < pending.length) result.set(pending[next++]!, stack.at(-1));
  return result;
}
