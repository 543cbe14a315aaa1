// Text format → syntax tree, with chevrotain. Positions stay on the tokens; no schema knowledge here.
import { EmbeddedActionsParser, type IToken, type IRecognitionException } from 'chevrotain';
import {
  allTokens, prototxtLexer, Identifier, FloatLiteral, IntLiteral, StringLiteral, LCurly, RCurly, LAngle, RAngle,
  LSquare, RSquare, Colon, Comma, Semicolon, Minus, Dot, Slash,
} from './lexer.js';
import type { AstField, AstMessage, AstScalar, AstValue } from './ast.js';
import { decodeStringLiteral, EscapeError } from './strings.js';

export interface SyntaxProblem {
  message: string;
  line: number;
  column: number;
}

type FieldValue = { values: AstValue[]; list: boolean };

/**
 * One rule invocation per field (scalars and blocks are parsed inline) and cached alternative arrays keep
 * chevrotain's per-call overhead low: parse speed matters for large nets (GoogLeNet, DenseNet).
 */
class TextFormatParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 1 });
    this.performSelfAnalysis();
  }

  /** Problems found while decoding string escapes (the grammar itself reports through `errors`). */
  escapeProblems: SyntaxProblem[] = [];

  public document = this.RULE('document', (): AstMessage => {
    const fields: AstField[] = [];
    this.MANY(() => {
      const f = this.SUBRULE(this.field);
      this.ACTION(() => f && fields.push(f));
    });
    return { kind: 'message', fields };
  });

  private nameAlts = [
    { ALT: () => this.CONSUME(Identifier) },
    {
      ALT: () => {
        const open = this.CONSUME(LSquare);
        const name = this.SUBRULE(this.extensionName);
        this.CONSUME(RSquare);
        // The '[' token stands for the name's position; the name itself is carried in `image` of a copy.
        return this.ACTION(() => ({ ...open, image: name, isExtension: true })) as IToken;
      },
    },
  ];

  private valueAlts = [
    { ALT: (): FieldValue => ({ values: [this.SUBRULE(this.block)], list: false }) },
    {
      ALT: (): FieldValue => {
        this.CONSUME2(LSquare);
        const values: AstValue[] = [];
        this.MANY_SEP({
          SEP: Comma,
          DEF: () => {
            const v = this.SUBRULE(this.listElement);
            this.ACTION(() => values.push(v));
          },
        });
        this.CONSUME2(RSquare);
        return { values, list: true };
      },
    },
    { ALT: (): FieldValue => ({ values: [this.SUBRULE(this.scalarValue)], list: false }) },
  ];

  private separatorAlts = [{ ALT: () => this.CONSUME(Comma) }, { ALT: () => this.CONSUME(Semicolon) }];

  private field = this.RULE('field', (): AstField => {
    const nameToken = this.OR(this.nameAlts) as IToken & { isExtension?: boolean };
    let colon = false;
    this.OPTION(() => {
      this.CONSUME(Colon);
      colon = true;
    });
    const value = this.OR2(this.valueAlts);
    this.OPTION2(() => this.OR3(this.separatorAlts));
    return {
      name: nameToken?.image,
      nameToken,
      extension: nameToken?.isExtension === true,
      colon,
      list: value?.list ?? false,
      values: value?.values ?? [],
    };
  });

  private extensionName = this.RULE('extensionName', (): string => {
    let name = this.CONSUME(Identifier).image;
    this.MANY(() => {
      this.OR([
        { ALT: () => { name += this.CONSUME(Dot).image; } },
        { ALT: () => { name += this.CONSUME(Slash).image; } },
      ]);
      name += this.CONSUME2(Identifier).image;
    });
    return name;
  });

  private listElementAlts = [
    { ALT: (): AstValue => this.SUBRULE(this.block) },
    { ALT: (): AstValue => this.SUBRULE(this.scalarValue) },
  ];

  private listElement = this.RULE('listElement', (): AstValue => this.OR(this.listElementAlts));

  private block = this.RULE('messageValue', (): AstMessage => {
    const fields: AstField[] = [];
    const open = this.OR([{ ALT: () => this.CONSUME(LCurly) }, { ALT: () => this.CONSUME(LAngle) }]);
    this.MANY(() => {
      const f = this.SUBRULE(this.field);
      this.ACTION(() => f && fields.push(f));
    });
    // The closing delimiter must match the opening one.
    const close = this.ACTION(() => open?.image === '<') ? this.CONSUME(RAngle) : this.CONSUME(RCurly);
    return { kind: 'message', open, close, fields };
  });

  private numberAlts = [
    { ALT: () => this.CONSUME(IntLiteral) },
    { ALT: () => this.CONSUME(FloatLiteral) },
    { ALT: () => this.CONSUME(Identifier) },
  ];

  private scalarAlts = [
    {
      ALT: (): AstScalar => {
        let start: IToken | undefined;
        this.OPTION(() => {
          start = this.CONSUME(Minus);
        });
        const token = this.OR2(this.numberAlts);
        return { kind: 'scalar', start: start ?? token, token, negative: start !== undefined };
      },
    },
    {
      ALT: (): AstScalar => {
        // Adjacent string literals concatenate, as in C.
        let token: IToken | undefined;
        let bytes = '';
        this.AT_LEAST_ONE(() => {
          const t = this.CONSUME(StringLiteral);
          this.ACTION(() => {
            token ??= t;
            bytes += this.decode(t);
          });
        });
        return { kind: 'scalar', start: token!, token: token!, negative: false, bytes };
      },
    },
  ];

  private scalarValue = this.RULE('scalarValue', (): AstScalar => this.OR(this.scalarAlts));

  private decode(t: IToken): string {
    try {
      return decodeStringLiteral(t.image);
    } catch (e) {
      if (e instanceof EscapeError) {
        this.escapeProblems.push({ message: e.message, line: t.startLine ?? 0, column: (t.startColumn ?? 0) + 1 + e.offset });
        return '';
      }
      throw e;
    }
  }
}

// One parser instance is reused (chevrotain's self-analysis is the expensive part).
let shared: TextFormatParser | undefined;

export interface ParseResult {
  ast: AstMessage;
  problems: SyntaxProblem[];
}

function describeToken(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'end of file';
  return `'${t.image}'`;
}

function explain(e: IRecognitionException, tokens: IToken[]): string {
  const t = e.token;
  const found = describeToken(t);
  switch (e.name) {
    case 'MismatchedTokenException': {
      const m = /Expecting (?:token of type )?--> (.*?) <--/.exec(e.message);
      const expected = m?.[1] ?? 'something else';
      if (expected === "'}'" || expected === "'>'") {
        const opener = unclosedBefore(tokens, t);
        const where = opener ? ` to close '${opener.image}' at ${opener.startLine}:${opener.startColumn}` : '';
        return `missing ${expected}${where}; found ${found}`;
      }
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

/** Parses text-format text into a syntax tree; syntax problems are returned, never thrown. */
export function parseTextFormat(text: string): ParseResult {
  const parser = (shared ??= new TextFormatParser());
  const lexed = prototxtLexer.tokenize(text);
  const problems: SyntaxProblem[] = lexed.errors.map((e) => ({
    message: lexMessage(text, e.offset, e.length),
    line: e.line ?? 0,
    column: e.column ?? 0,
  }));
  parser.escapeProblems = [];
  parser.input = lexed.tokens;
  const ast = parser.document();
  for (const e of parser.errors) {
    const t = e.token;
    let line = t.startLine;
    let column = t.startColumn;
    if (t.tokenType.name === 'EOF' || line === undefined || Number.isNaN(line)) {
      ({ line, column } = endOfText(text));
    }
    problems.push({ message: explain(e, lexed.tokens), line: line ?? 0, column: column ?? 0 });
  }
  problems.push(...parser.escapeProblems);
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ast, problems: dedupe(problems) };
}

function dedupe(ps: SyntaxProblem[]): SyntaxProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.line}:${p.column}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The innermost '{' or '<' still open when `at` is reached. */
function unclosedBefore(tokens: IToken[], at: IToken): IToken | undefined {
  const stack: IToken[] = [];
  for (const tok of tokens) {
    if (tok === at || (!Number.isNaN(at.startOffset) && tok.startOffset >= at.startOffset)) break;
    const c = tok.image;
    if (c === '{' || c === '<') stack.push(tok);
    else if (c === '}' || c === '>') stack.pop();
  }
  return stack.at(-1);
}

function lexMessage(text: string, offset: number, length: number): string {
  const c = text[offset] ?? '';
  if (c === '"' || c === "'") return 'unterminated string (strings cannot span lines)';
  const snippet = text.slice(offset, offset + Math.min(length, 20)).split(/[\r\n]/)[0];
  return `unexpected character${length > 1 ? 's' : ''} '${snippet}'`;
}

function endOfText(text: string): { line: number; column: number } {
  const lines = text.split(/\r\n|\r|\n/);
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
