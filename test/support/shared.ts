// ../shared (beside the project) holds the real-Caffe corpus and golden fixtures. Tests read it when it
// exists and skip cleanly when it does not; nothing from it is ever copied into the project.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedRoot = path.resolve(projectRoot, '..', 'shared');
export const corpusRoot = path.join(sharedRoot, 'corpus');
export const fixturesRoot = path.join(sharedRoot, 'fixtures');
export const hasCorpus = fs.existsSync(path.join(corpusRoot, 'MANIFEST.tsv'));
export const hasFixtures = fs.existsSync(path.join(fixturesRoot, 'MANIFEST.json'));

export interface CorpusEntry {
  localPath: string;
  file: string;
  format: string;
  exercises: string;
}

export function corpusEntries(): CorpusEntry[] {
  if (!hasCorpus) return [];
  const lines = fs.readFileSync(path.join(corpusRoot, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split('\t');
  const col = (name: string) => header.indexOf(name);
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const localPath = cells[col('local_path')]!;
    return {
      localPath,
      file: path.join(corpusRoot, localPath),
      format: cells[col('format')]!,
      exercises: cells[col('exercises')]!,
    };
  });
}
