// Tokens of the protobuf text format as Caffe files use it. Knows nothing about Caffe.
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
// Floats need a '.', an exponent or an 'f' suffix; everything else numeric is an integer.
export const FloatLiteral = createToken({
  name: 'FloatLiteral',
  pattern: /(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|\d+[eE][+-]?\d+[fF]?|\d+[fF]/,
});
export const IntLiteral = createToken({ name: 'IntLiteral', pattern: /0[xX][0-9a-fA-F]+|\d+/ });
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
});

export type { IToken };
