// `kdnet demo` as one library call: run the experiment, export and time the models, and write the results
// (results.json, results.md, errors.svg) beside the nets, logs and snapshots it made.
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { deployAndMeasure } from './measure.js';
import { compare, errorsSvg, formatTable, modelResult, resultsJson, type Comparison, type ModelResult } from './report.js';
import { runDemo, type DemoOptions, type ModelRuns } from './run.js';
import { withLogFile } from './train-run.js';

export interface DemoReport {
  table: string;
  verdict: string[];
  results: ModelResult[];
  comparisons: Comparison[];
  files: { json: string; markdown: string; svg: string; extraJson?: string };
}

function deployFirstSeed(m: ModelRuns, out: string): ModelResult {
  const run = m.runs[0]!;
  return modelResult(m, deployAndMeasure(run.net, run.weights, path.join(out, 'deploy', m.key)));
}

export function verdictLines(results: ModelResult[], comparisons: Comparison[]): string[] {
  const label = (k: string) => results.find((r) => r.key === k)!.label;
  return comparisons.map((c) => {
    const pts = (100 * Math.abs(c.gain)).toFixed(2);
    if (c.gain <= 0) return `${label(c.key)}: no gain over ${label(c.baseline)} (${pts} points ${c.gain < 0 ? 'worse' : 'apart'}).`;
    return (
      `${label(c.key)}: ${pts} points better than ${label(c.baseline)}, ${Math.round(100 * c.gapClosed)} % of the gap to the teacher closed; ` +
      (c.beyondSpread ? 'more than the seed-to-seed spread.' : 'but within the seed-to-seed spread.')
    );
  });
}

export async function demo(o: DemoOptions & { json?: string }): Promise<DemoReport> {
  const runs = await runDemo(o);
  o.progress?.('export and timing', 0, 1);
  const results = await withLogFile(path.join(o.out, 'logs', 'export.log'), () => [runs.teacher, ...runs.students].map((m) => deployFirstSeed(m, o.out)));
  o.progress?.('export and timing', 1, 1);
  const comparisons = compare(results, results[0]!.errors[0]!);
  const table = formatTable(results, comparisons);
  const verdict = verdictLines(results, comparisons);
  const settings = {
    data: runs.data.source,
    training_images: runs.data.counts.train,
    labelled_images: runs.data.counts.labelled,
    test_images: runs.data.counts.test,
    seeds: o.seeds,
    regimes: o.regimes,
    temperature: o.temperature,
    alpha: o.alpha,
    teacher_iterations: o.teacherIterations,
    student_iterations: o.studentIterations,
  };
  const json = JSON.stringify(resultsJson(results, comparisons, settings), null, 2) + '\n';
  const files = { json: path.join(o.out, 'results.json'), markdown: path.join(o.out, 'results.md'), svg: path.join(o.out, 'errors.svg'), extraJson: o.json };
  writeFileAtomic(files.json, json);
  if (o.json) writeFileAtomic(o.json, json);
  writeFileAtomic(files.markdown, `# kdnet demo\n\n\`\`\`\n${table}\`\`\`\n\n${verdict.map((v) => `- ${v}`).join('\n')}\n`);
  writeFileAtomic(files.svg, await errorsSvg(results, `Fashion-MNIST test error: teacher, student alone and distilled (T = ${o.temperature}, alpha = ${o.alpha})`));
  return { table, verdict, results, comparisons, files };
}
