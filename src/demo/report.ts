// The demo's results: a table for the terminal, the JSON the tooling reads, and an SVG chart of the
// test errors (mean bar, one dot per seed) with vega-lite.
import { vegaLiteSvg } from '../util/vega-svg.js';
import { formatTable as textTable } from '../util/text-table.js';
import type { DeployFacts } from './measure.js';
import type { ModelRuns } from './run.js';

export interface ModelResult {
  key: string;
  label: string;
  errors: number[];
  deploy?: DeployFacts;
}

export interface Summary {
  mean: number;
  /** Largest minus smallest error over the seeds. */
  spread: number;
}

export function summarize(errors: number[]): Summary {
  return { mean: errors.reduce((a, b) => a + b, 0) / errors.length, spread: Math.max(...errors) - Math.min(...errors) };
}

export function modelResult(m: ModelRuns, deploy?: DeployFacts): ModelResult {
  return { key: m.key, label: m.label, errors: m.runs.map((r) => r.testError), deploy };
}

/** The baseline a distilled student is compared with: the student alone on the same labels. */
export function baselineOf(key: string): string | undefined {
  if (key === 'student_kd' || key === 'student_kd_transfer') return 'student';
  if (key === 'student_kd_all') return 'student_all';
  return undefined;
}

export interface Comparison {
  key: string;
  baseline: string;
  /** Baseline mean error minus this model's (positive: distillation helped). */
  gain: number;
  /** Share of the baseline→teacher gap closed. */
  gapClosed: number;
  /** The gain is larger than either model's seed-to-seed spread. */
  beyondSpread: boolean;
}

export function compare(results: ModelResult[], teacherError: number): Comparison[] {
  const byKey = new Map(results.map((r) => [r.key, r]));
  return results.flatMap((r) => {
    const base = byKey.get(baselineOf(r.key) ?? '');
    if (!base) return [];
    const b = summarize(base.errors);
    const s = summarize(r.errors);
    const gain = b.mean - s.mean;
    return [{ key: r.key, baseline: base.key, gain, gapClosed: gain / (b.mean - teacherError), beyondSpread: gain > Math.max(b.spread, s.spread) }];
  });
}

const pct = (v: number, digits = 2) => `${(100 * v).toFixed(digits)} %`;

export function formatTable(results: ModelResult[], comparisons: Comparison[]): string {
  const rows = results.map((r) => {
    const s = summarize(r.errors);
    const error = r.errors.length > 1 ? `${pct(s.mean)} (${r.errors.map((e) => (100 * e).toFixed(2)).join(', ')})` : pct(s.mean);
    const c = comparisons.find((x) => x.key === r.key);
    return [
      r.label,
      error,
      r.deploy ? r.deploy.params.toLocaleString('en-US') : '',
      r.deploy ? r.deploy.forwardMsPerImage.toFixed(3) : '',
      c ? `${c.gain >= 0 ? '−' : '+'}${(100 * Math.abs(c.gain)).toFixed(2)} pts, ${Math.round(100 * c.gapClosed)} % of gap${c.beyondSpread ? '' : ' (within seed spread)'}` : '',
    ];
  });
  const head = ['model', 'test error (per seed)', 'parameters', 'forward ms/image', 'vs. student alone'];
  return textTable(head, rows, new Set([2, 3]));
}

export function resultsJson(results: ModelResult[], comparisons: Comparison[], settings: object): object {
  const out: Record<string, object> = {};
  for (const r of results) {
    const c = comparisons.find((x) => x.key === r.key);
    out[r.key] = {
      label: r.label,
      test_error: r.key === 'teacher' ? r.errors[0] : r.errors,
      ...(r.deploy ? { parameters: r.deploy.params, forward_ms_per_image: r.deploy.forwardMsPerImage, deploy: r.deploy.dir } : {}),
      ...(c ? { gain_over_student: c.gain, gap_closed: c.gapClosed, beyond_seed_spread: c.beyondSpread } : {}),
    };
  }
  return { ...out, settings };
}

export async function errorsSvg(results: ModelResult[], title: string): Promise<string> {
  const points = results.flatMap((r) => r.errors.map((e, i) => ({ model: r.label, seed: i + 1, error: 100 * e })));
  const order = results.map((r) => r.label);
  const y = { field: 'model', type: 'nominal', sort: order, title: null };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points },
    width: 420,
    height: { step: 34 },
    config: { axis: { labelLimit: 520 } },
    layer: [
      { mark: { type: 'bar', opacity: 0.35 }, encoding: { y, x: { aggregate: 'mean', field: 'error', type: 'quantitative', title: 'test error (%)' }, color: { field: 'model', type: 'nominal', sort: order, legend: null } } },
      { mark: { type: 'point', filled: true, size: 50 }, encoding: { y, x: { field: 'error', type: 'quantitative' }, color: { field: 'model', type: 'nominal', sort: order, legend: null }, tooltip: [{ field: 'seed' }, { field: 'error' }] } },
      { mark: { type: 'text', align: 'left', dx: 6 }, encoding: { y, x: { aggregate: 'max', field: 'error', type: 'quantitative' }, text: { aggregate: 'mean', field: 'error', type: 'quantitative', format: '.2f' } } },
    ],
  };
  return vegaLiteSvg(spec);
}
