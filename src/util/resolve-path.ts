// Caffe resolves data sources against the working directory; kdnet does too, then tries the folder of the
// net file (so a net runs from anywhere), then any extra folders given.
import fs from 'node:fs';
import path from 'node:path';

export function resolveDataPath(p: string, ...dirs: (string | undefined)[]): string {
  if (path.isAbsolute(p) || fs.existsSync(p)) return p;
  for (const d of dirs) {
    if (!d) continue;
    const candidate = path.join(d, p);
    if (fs.existsSync(candidate)) return candidate;
  }
  return p;
}
