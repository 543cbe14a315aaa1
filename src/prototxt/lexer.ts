// Tokens of the protobuf text format as Caffe files use it. Knows nothing about Caffe.
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
// Numbers as protobuf's tokenizer reads them: a float has a '.', an exponent or an 'f' suffix; a decimal part
// never starts with a needless 0 (`01.5` is octal 01 and a stray '.5', an error there and here). A number must
// not run on into letters, digits or a dot (protobuf wants a space there): such runs are BadNumber.
const DECIMAL = '(?:0|[1-9]\\d*)';
const EXPONENT = '(?:[eE][+-]?\\d+)';
const FLOAT = `${DECIMAL}(?:\\.\\d*${EXPONENT}?|${EXPONENT})[fF]?|\\.\\d+${EXPONENT}?[fF]?|${DECIMAL}[fF]`;
// Hex, octal (leading 0) and decimal; digits 8 and 9 after a leading 0 are read and rejected by the binder.
const INT = '0[xX][0-9a-fA-F]+|\\d+';
const ENDS_HERE = '(?![A-Za-z0-9_.])';
export const FloatLiteral = createToken({ name: 'FloatLiteral', pattern: new RegExp(`(?:${FLOAT})${ENDS_HERE}`) });
export const IntLiteral = createToken({ name: 'IntLiteral', pattern: new RegExp(`(?:${INT})${ENDS_HERE}`) });
/**
 * What is left of a number that runs on (`3pad`, `1e`, `0x`, `1.5.3`, `017f`): one token, so the grammar reads
 * it as one (bad) value and the problem is reported once, by the token scan.
 */
export const BadNumber = createToken({ name: 'BadNumber', pattern: /(?:\d|\.\d)(?:[eE][+-]|[A-Za-z0-9_.])*/ });
/** The longest number at the start of a bad number, to say where the space is missing. */
export const NUMBER_PREFIX = new RegExp(`^(?:${FLOAT}|${INT})`);
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"|'(?:[^'\\\n\r]|\\[^\n\r])*'/,
});

export const LCurly = createToken({ name: 'LCurly', pattern: '{', label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: '}', label: "'}'" });
export const LAngle = createToken({ name: 'LAngle', pattern: '<', label: "'<'" });
export const RAngle = createToken({ name: 'RAngle', pattern: '>', label: "'>'" });
export const LSquare = createToken({ name: 'LSquare', pattern: '[', label: "'['" });
export const RSquare = createToken({ name: 'RSquare', pattern: ']', label: "']'" });
export const Colon = createToken({ name: 'Colon', pattern: ':', label: "':'" });
export const Comma = createToken({ name: 'Comma', pattern: ',', label: "','" });
export const Semicolon = createToken({ name: 'Semicolon', pattern: ';', label: "';'" });
export const Minus = createToken({ name: 'Minus', pattern: '-', label: "'-'" });
export const Dot = createToken({ name: 'Dot', pattern: '.', label: "'.'" });
export const Slash = createToken({ name: 'Slash', pattern: '/', label: "'/'" });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLiteral,
  FloatLiteral,
  IntLiteral,
  BadNumber,
  Identifier,
  LCurly,
  RCurly,
  LAngle,
  RAngle,
  LSquare,
  RSquare,
  Colon,
  Comma,
  Semicolon,
  Minus,
  Dot,
  Slash,
];

export const prototxtLexer = new Lexer(allTokens, {
  positionTracking: 'onlyStart',
  ensureOptimizations: true,
  // The parser words lexical errors itself; chevrotain's own text would only be built and thrown away.
  errorMessageProvider: { buildUnexpectedCharactersMessage: () => '', buildUnableToPopLexerModeMessage: () => '' },
});

export type { IToken };
