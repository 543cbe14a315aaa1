// The syntax tree of a text-format message: fields in source order, values with their tokens kept for positions.
import type { IToken } from 'chevrotain';

export interface AstMessage {
  kind: 'message';
  /** The opening '{' or '<' (absent for the top level). */
  open?: IToken;
  close?: IToken;
  fields: AstField[];
}

export interface AstScalar {
  kind: 'scalar';
  /** The first token of the value (the '-' when negative). */
  start: IToken;
  /** IntLiteral, FloatLiteral, Identifier or StringLiteral. */
  token: IToken;
  negative: boolean;
  /** For strings: the decoded bytes of all adjacent literals (latin1 string of bytes). */
  bytes?: string;
}

export type AstValue = AstMessage | AstScalar;

export interface AstField {
  name: string;
  nameToken: IToken;
  /** `[ext.name]` form. */
  extension: boolean;
  /** Whether a ':' followed the name. */
  colon: boolean;
  /** `name: [a, b]` list form: every element becomes one occurrence. */
  list: boolean;
  values: AstValue[];
}
