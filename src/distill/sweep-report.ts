// What `kdnet distill sweep` writes: sweep.json (every run's final test outputs), sweep.md (a table of test
// accuracy per temperature, per seed and mean, with the error) and sweep.svg (test error against T).
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { vegaLiteSvg } from '../util/vega-svg.js';

export interface SweepRun {
  temperature: number;
  seed: number;
  iterations: number;
  /** The final test pass: every output of every test net. */
  outputs: Array<{ net: number; name: string; value: number }>;
  accuracy: number;
  error: number;
  /** The student's final snapshot (.caffemodel), when one was written. */
  snapshot?: string;
}

export interface SweepReport {
  solver: string;
  metric: string;
  temperatures: number[];
  seeds: number[];
  runs: SweepRun[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

export function sweepTable(r: SweepReport): string {
  const seedCols = r.seeds.length > 1 ? r.seeds.map((s) => `${r.metric} (seed ${s})`) : [];
  const header = ['T', ...seedCols, r.seeds.length > 1 ? `mean ${r.metric}` : r.metric, r.seeds.length > 1 ? 'mean error' : 'error'];
  const rows = r.temperatures.flatMap((t) => {
    const runs = r.seeds.map((s) => r.runs.find((x) => x.temperature === t && x.seed === s));
    const done = runs.filter((x): x is SweepRun => !!x);
    if (!done.length) return [];
    const cells = r.seeds.length > 1 ? runs.map((x) => (x ? pct(x.accuracy) : 'not run')) : [];
    return [[String(t), ...cells, pct(mean(done.map((x) => x.accuracy))), pct(mean(done.map((x) => x.error)))]];
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---:')), ...rows.map(line)].join('\n') + '\n';
}

function markdown(r: SweepReport): string {
  const iters = [...new Set(r.runs.map((x) => x.iterations))].join(', ');
  return (
    `# Temperature sweep of ${r.solver}\n\n` +
    `Final test \`${r.metric}\` after ${iters} iterations; error = 1 − ${r.metric}. Seeds: ${r.seeds.join(', ')}.\n\n` +
    sweepTable(r)
  );
}

export async function sweepSvg(r: SweepReport): Promise<string> {
  const points = r.runs.map((x) => ({ T: x.temperature, error: x.error, seed: String(x.seed) }));
  const x = { field: 'T', type: 'quantitative', title: 'temperature T (log scale)', scale: { type: 'log', base: 2 }, axis: { values: r.temperatures } };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `test error against temperature (${path.basename(r.solver)})`,
    data: { values: points },
    width: 480,
    height: 260,
    layer: [
      {
        mark: { type: 'point', filled: true, opacity: 0.6 },
        encoding: { x, y: { field: 'error', type: 'quantitative', title: `test error (1 − ${r.metric})`, scale: { zero: false }, axis: { format: '.1%' } }, color: { field: 'seed', type: 'nominal' } },
      },
      {
        mark: { type: 'line', point: true, color: 'black' },
        encoding: { x, y: { aggregate: 'mean', field: 'error', type: 'quantitative' } },
      },
    ],
  };
  return vegaLiteSvg(spec);
}

/** Writes DIR/sweep.json, sweep.md and sweep.svg, each atomically. */
export async function writeSweepReport(dir: string, r: SweepReport): Promise<{ json: string; markdown: string; svg: string }> {
  const files = { json: path.join(dir, 'sweep.json'), markdown: path.join(dir, 'sweep.md'), svg: path.join(dir, 'sweep.svg') };
  writeFileAtomic(files.json, JSON.stringify(r, null, 2) + '\n');
  writeFileAtomic(files.markdown, markdown(r));
  writeFileAtomic(files.svg, await sweepSvg(r));
  return files;
}
