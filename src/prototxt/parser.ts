// Text format → syntax tree, with chevrotain. Positions stay on the tokens; no schema knowledge here.
import { EmbeddedActionsParser, type IToken, type IRecognitionException } from 'chevrotain';
import {
  allTokens, prototxtLexer, Identifier, FloatLiteral, IntLiteral, StringLiteral, LCurly, RCurly, LAngle, RAngle,
  LSquare, RSquare, Colon, Comma, Semicolon, Minus, Dot, Slash, BadNumber,
} from './lexer.js';
import type { AstField, AstMessage, AstScalar, AstValue } from './ast.js';
import { decodeStringLiteral, EscapeError } from './strings.js';
import { badNumbers, nestingMessage, NESTING_LIMIT, openersBefore, tooDeep, type TokenProblem } from './token-scan.js';
import {
  distinct, endOfText, explain, lexMessage, MAX_LISTED_PROBLEMS, ProblemList, type ParseResult, type SyntaxProblem,
} from './syntax-problems.js';

export { MAX_LISTED_PROBLEMS, type ParseResult, type SyntaxProblem };

class TooManyErrors extends Error {}

class NestingTooDeep extends Error {
  constructor(readonly token: IToken) {
    super(nestingMessage());
  }
}

type FieldValue = { values: AstValue[]; list: boolean };
type SaveError = { SAVE_ERROR(this: unknown, e: IRecognitionException): IRecognitionException };

const emptyMessage = (): AstMessage => ({ kind: 'message', fields: [] });

/**
 * One rule invocation per field (scalars and blocks are parsed inline) and cached alternative arrays keep
 * chevrotain's per-call overhead low: parse speed matters for large nets (GoogLeNet, DenseNet).
 */
class TextFormatParser extends EmbeddedActionsParser {
  constructor(recoveryEnabled: boolean) {
    super(allTokens, { recoveryEnabled, maxLookahead: 1 });
    this.performSelfAnalysis();
    if (typeof (EmbeddedActionsParser.prototype as unknown as Partial<SaveError>).SAVE_ERROR !== 'function') {
      throw new Error('chevrotain no longer has SAVE_ERROR: the syntax error cap needs another hook');
    }
  }

  /** Problems found while decoding string escapes (the grammar itself reports through `errors`). */
  escapeProblems: SyntaxProblem[] = [];
  private depth = 0;
  private errorCount = 0;

  start(tokens: IToken[]): void {
    this.input = tokens;
    this.escapeProblems = [];
    this.depth = 0;
    this.errorCount = 0;
  }

  /** The token the grammar was at. */
  current(): IToken {
    return this.LA(1);
  }

  // Every recognition error passes through here (chevrotain's own hook for recording them).
  SAVE_ERROR(error: IRecognitionException): IRecognitionException {
    const saved = (EmbeddedActionsParser.prototype as unknown as SaveError).SAVE_ERROR.call(this, error);
    if (++this.errorCount > MAX_LISTED_PROBLEMS) throw new TooManyErrors();
    return saved;
  }

  public document = this.RULE(
    'document',
    (): AstMessage => {
      const fields: AstField[] = [];
      this.MANY(() => {
        const f = this.SUBRULE(this.field);
        this.ACTION(() => f && fields.push(f));
      });
      return { kind: 'message', fields };
    },
    { recoveryValueFunc: emptyMessage },
  );

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

  // '{' … '}' and '<' … '>' are separate alternatives so that the grammar chevrotain records (and recovers
  // with) knows which closer each opener needs.
  private blockAlts = [
    {
      ALT: (): AstMessage => {
        const open = this.CONSUME(LCurly);
        const fields: AstField[] = [];
        this.MANY(() => {
          const f = this.SUBRULE(this.field);
          this.ACTION(() => f && fields.push(f));
        });
        const close = this.CONSUME(RCurly);
        return { kind: 'message', open, close, fields };
      },
    },
    {
      ALT: (): AstMessage => {
        const open = this.CONSUME(LAngle);
        const fields: AstField[] = [];
        this.MANY2(() => {
          const f = this.SUBRULE2(this.field);
          this.ACTION(() => f && fields.push(f));
        });
        const close = this.CONSUME(RAngle);
        return { kind: 'message', open, close, fields };
      },
    },
  ];

  private block = this.RULE(
    'messageValue',
    (): AstMessage => {
      // The token scan refuses deeper text before parsing starts; this guard only keeps any recovery path
      // from recursing further than that.
      if (++this.depth > NESTING_LIMIT) throw new NestingTooDeep(this.LA(1));
      try {
        return this.OR(this.blockAlts);
      } finally {
        this.depth--;
      }
    },
    { recoveryValueFunc: emptyMessage },
  );

  private numberAlts = [
    { ALT: () => this.CONSUME(IntLiteral) },
    { ALT: () => this.CONSUME(FloatLiteral) },
    { ALT: () => this.CONSUME(Identifier) },
    // Reported by the token scan; read here as a value so one bad number makes one error.
    { ALT: () => this.CONSUME(BadNumber) },
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

// One parser instance of each kind is reused (chevrotain's self-analysis is the expensive part); the one
// without recovery is made only when a deep file exhausts the stack.
let shared: TextFormatParser | undefined;
let sharedStrict: TextFormatParser | undefined;

/** Parses text-format text into a syntax tree; syntax problems are returned, never thrown. */
export function parseTextFormat(text: string): ParseResult {
  const parser = (shared ??= new TextFormatParser(true));
  const lexed = prototxtLexer.tokenize(text);
  let end: { line: number; column: number } | undefined;
  const positionOf = (t: IToken) => {
    if (t.tokenType.name === 'EOF' || t.startLine === undefined || Number.isNaN(t.startLine)) return (end ??= endOfText(text));
    return { line: t.startLine, column: t.startColumn ?? 0 };
  };
  const fromToken = (p: TokenProblem): SyntaxProblem => ({ message: p.message, ...positionOf(p.token) });

  const problems = new ProblemList();
  problems.add(lexed.errors, (e) => ({ message: lexMessage(text, e.offset, e.length), line: e.line ?? 0, column: e.column ?? 0 }));
  const bad = badNumbers(lexed.tokens);
  problems.add(bad, fromToken);
  const echoes = new Set(bad.map((p) => p.next));

  // Deeper text never reaches chevrotain's recursive descent.
  const deep = tooDeep(lexed.tokens);
  if (deep) {
    problems.add([deep], fromToken);
    return problems.result(emptyMessage(), false);
  }

  parser.start(lexed.tokens);
  let ast = emptyMessage();
  let stoppedEarly = false;
  let grammar = parser;
  try {
    ast = parser.document();
  } catch (e) {
    if (e instanceof TooManyErrors) stoppedEarly = true;
    else if (e instanceof NestingTooDeep) problems.add([e.token], (t) => ({ message: nestingMessage(), ...positionOf(t) }));
    else if (isStackOverflow(e)) {
      // Within the nesting limit a clean parse needs about a third of Node's default stack, but recovering from
      // errors 100 levels deep needs more than a caller deep in its own stack may have left. Read again without
      // recovery: the first error is then reported where it is, and reading stops there.
      stoppedEarly = true;
      grammar = sharedStrict ??= new TextFormatParser(false);
      grammar.start(lexed.tokens);
      try {
        grammar.document();
      } catch (again) {
        if (!isStackOverflow(again)) throw again;
      }
      if (!grammar.errors.length) {
        problems.add([grammar.current()], (t) => ({ message: 'nesting too deep to read with the stack left', ...positionOf(t) }));
      }
    } else throw e;
  }
  const errors = grammar.errors.slice(0, MAX_LISTED_PROBLEMS).filter((e) => !echoes.has(e.token));
  const openers = openersBefore(lexed.tokens, errors.map((e) => e.token));
  problems.add(distinct(errors.map((e) => ({ message: explain(e, openers.get(e.token)), ...positionOf(e.token) }))), (p) => p);
  problems.add(grammar.escapeProblems, (p) => p);
  return problems.result(ast, stoppedEarly);
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}
