// `kdnet distill convert`: an old distillation setup → a current-syntax net on kdnet's native distillation
// layers, with every change and its reason, and warnings where the old numerics differ from the new. Each
// recipe lives in its own file; they run in this order over the same net, later ones leaving alone the
// layers earlier ones wrote.
import type { Message } from '../../proto/schema.js';
import { printCaffeText } from '../../proto/text.js';
import { writeWeightsMessage } from '../../proto/weights.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { KdnetError } from '../../errors.js';
import type { NetFormat } from '../../proto/load.js';
import { readOldNet } from './read-old-net.js';
import { powerCrossEntropy } from './power-cross-entropy.js';
import { powerSigmoid } from './power-sigmoid.js';
import { kdistil } from './kdistil.js';
import { knowledgeDistillation } from './knowledge-distillation.js';
import type { ConversionReport, ConvertOptions, Recipe } from './recipe.js';

export type { ConversionReport, ConvertOptions } from './recipe.js';

export const RECIPES: readonly Recipe[] = [powerCrossEntropy, powerSigmoid, kdistil, knowledgeDistillation];

export interface Conversion extends ConversionReport {
  file: string;
  net: Message;
  format: NetFormat;
  binary: boolean;
  upgrades: string[];
}

/** Converts a net message in place; throws a KdnetError naming what was looked for when no recipe matches. */
export function convertDistillNet(net: Message, options: ConvertOptions = {}, source = 'the net'): ConversionReport {
  const report: ConversionReport = { recipes: [], changes: [], warnings: [] };
  const ctx = { report, options, created: new Set<Message>() };
  for (const recipe of RECIPES) {
    if (recipe.convert(net, ctx) > 0) report.recipes.push(`${recipe.id}: ${recipe.title}`);
  }
  if (!report.recipes.length) {
    throw new KdnetError(
      `${source} matches no known distillation recipe. Looked for: ${RECIPES.map((r, i) => `(${i + 1}) ${r.looksFor}`).join('; ')} ` +
        '(only layers of the TRAIN phase are searched)',
    );
  }
  return report;
}

/** Reads an old setup (text net, or a fork's binary .caffemodel) and converts it. */
export function convertDistillFile(file: string, options: ConvertOptions = {}): Conversion {
  const old = readOldNet(file);
  const report = convertDistillNet(old.net, options, file);
  if (old.foreignV1Types.length) {
    report.changes.unshift(
      `read V1 layer type${old.foreignV1Types.length > 1 ? 's' : ''} stock Caffe never had: ${old.foreignV1Types.map((t) => `"${t.layer}" (${t.type})`).join(', ')}`,
    );
  }
  return { file, net: old.net, format: old.format, binary: old.binary, upgrades: old.upgrades, ...report };
}

const TEXT = /\.(prototxt|pbtxt|txt|pt)$/i;

/** Writes the converted net atomically: a binary input (with its blobs) stays binary unless `out` is a text name. */
export function writeConversion(c: Conversion, out: string): void {
  if (c.binary && !TEXT.test(out)) return writeWeightsMessage(out, c.net);
  if (!c.binary && /\.caffemodel$/i.test(out)) {
    throw new KdnetError(`${out}: a net converted from text is written as text; name the output .prototxt`);
  }
  writeFileAtomic(out, printCaffeText(c.net, 'NetParameter'));
}

export function conversionText(c: Conversion): string {
  return printCaffeText(c.net, 'NetParameter');
}

/** The report a user reads: source, recipes, changes, warnings — one line each. */
export function formatConversion(c: Conversion): string {
  const lines = [`${c.file}: ${c.binary ? 'binary' : c.format} net "${c.net.name}"${c.upgrades.length ? ` (upgraded: ${c.upgrades.join(', ')})` : ''}`];
  for (const r of c.recipes) lines.push(`recipe ${r}`);
  for (const ch of c.changes) lines.push(`change: ${ch}`);
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
