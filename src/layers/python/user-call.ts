// Calls into a ported layer's code. Whatever it throws becomes one user error naming the class, the method,
// the user's message and the place in the user's file it came from (never kdnet's own stack).
import { fileURLToPath } from 'node:url';

export interface UserCode {
  className: string;
  /** The module file, to find the user's frame in a stack. */
  file: string;
}

export function callUser<T>(code: UserCode, method: string, fn: () => T, fail: (message: string) => Error): T {
  let result: T;
  try {
    result = fn();
  } catch (e) {
    const at = userFrame(e, code.file);
    throw fail(`${code.className}.${method} threw: ${errorText(e)}${at ? ` (at ${at})` : ''}`);
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    // A rejected promise would otherwise go unhandled.
    (result as unknown as Promise<unknown>).then(undefined, () => undefined);
    throw fail(`${code.className}.${method} returned a Promise: kdnet calls layer methods synchronously (read files with fs.readFileSync, not await)`);
  }
  return result;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}

/** `file:line:col` of the first stack frame inside the user's module file. */
function userFrame(e: unknown, file: string): string | undefined {
  const stack = e instanceof Error ? e.stack : undefined;
  if (!stack) return undefined;
  for (const m of stack.matchAll(/((?:file:\/\/)?[^\s()]+):(\d+):(\d+)/g)) {
    let where = m[1]!;
    if (where.startsWith('file://')) {
      try {
        where = fileURLToPath(where);
      } catch {
        continue;
      }
    }
    if (where === file) return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}
