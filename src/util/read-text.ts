// Reading a text file a user named (a list, a window file): one clear error when it cannot be read.
import fs from 'node:fs';
import { KdnetError } from '../errors.js';

export function readUserText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new KdnetError(`${file}: cannot read the ${what}`);
  }
}
