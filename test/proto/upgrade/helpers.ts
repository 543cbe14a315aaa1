// Shared by the upgrade tests: text → message, message → comparable object, and a captured log.
import { afterEach, beforeEach } from 'vitest';
import { parseCaffeText } from '../../../src/proto/text.js';
import { caffeType, type Message } from '../../../src/proto/schema.js';
import { setLogSink, type LogLevel, type LogSink } from '../../../src/log.js';

export function net(text: string, file?: string): Message {
  return parseCaffeText(text, 'NetParameter', file).message;
}

export function solver(text: string, file?: string): Message {
  return parseCaffeText(text, 'SolverParameter', file).message;
}

/** The set fields of a message as a plain object (enums as numbers), for toEqual. */
export function obj(msg: Message, type = 'NetParameter'): Record<string, unknown> {
  return caffeType(type).toObject(msg) as Record<string, unknown>;
}

export interface CapturedLog {
  lines: { level: LogLevel; message: string }[];
  info(): string[];
  warn(): string[];
}

/** Captures log lines for each test of the calling file. */
export function captureLog(): CapturedLog {
  const captured: CapturedLog = {
    lines: [],
    info: () => captured.lines.filter((l) => l.level === 'I').map((l) => l.message),
    warn: () => captured.lines.filter((l) => l.level === 'W').map((l) => l.message),
  };
  let old: LogSink | undefined;
  beforeEach(() => {
    captured.lines.length = 0;
    old = setLogSink((level, message) => captured.lines.push({ level, message }));
  });
  afterEach(() => {
    if (old) setLogSink(old);
  });
  return captured;
}
