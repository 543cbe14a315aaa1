// Parse throughput on the real corpus (../shared/corpus): text → bound, schema-checked messages.
// Target on the 2-core reference machine: ≥ 20 MB/s.
import fs from 'node:fs';
import path from 'node:path';
import { parseCaffeText, detectKind } from '../dist/proto/text.js';

export interface ParseBench {
  files: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
}

export function benchParse(corpusRoot: string, minSeconds = 3): ParseBench | undefined {
  const manifest = path.join(corpusRoot, 'MANIFEST.tsv');
  if (!fs.existsSync(manifest)) return undefined;
  const files = fs
    .readFileSync(manifest, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => path.join(corpusRoot, l.split('\t')[0]!));
  const texts = files.map((f) => {
    const text = fs.readFileSync(f, 'utf8');
    return { text, kind: detectKind(text), file: f };
  });
  const bytesPerPass = texts.reduce((s, t) => s + Buffer.byteLength(t.text), 0);
  // Warm up the JIT and chevrotain's caches.
  for (let i = 0; i < 5; i++) for (const t of texts) parseCaffeText(t.text, t.kind, t.file);
  let passes = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < minSeconds * 1000) {
    for (const t of texts) parseCaffeText(t.text, t.kind, t.file);
    passes++;
    elapsed = performance.now() - t0;
  }
  const seconds = elapsed / 1000;
  return { files: texts.length, bytes: bytesPerPass * passes, seconds, mbPerSecond: (bytesPerPass * passes) / 1e6 / seconds };
}
