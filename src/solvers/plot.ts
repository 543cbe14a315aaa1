// Training curves as SVG with vega-lite: one panel per kind (train loss, test outputs, learning rate).
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { CurvePoint } from './training-log.js';

export async function curvesSvg(points: CurvePoint[], title = 'kdnet training'): Promise<string> {
  const panel = (filter: string, yTitle: string, scale?: object) => ({
    transform: [{ filter }],
    mark: { type: 'line', point: points.length < 200 },
    encoding: {
      x: { field: 'iter', type: 'quantitative', title: 'iteration' },
      y: { field: 'value', type: 'quantitative', title: yTitle, ...(scale ? { scale } : {}) },
      color: { field: 'series', type: 'nominal', title: null },
    },
    width: 560,
    height: 180,
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points },
    // Only panels that have data: a run without test nets gets no empty test panel.
    vconcat: [
      points.some((p) => p.series === 'train loss' || (p.series.startsWith('test') && p.series.includes('loss')))
        ? panel("datum.series === 'train loss' || (indexof(datum.series, 'test') === 0 && indexof(datum.series, 'loss') >= 0)", 'loss')
        : undefined,
      points.some((p) => p.series.startsWith('test') && !p.series.includes('loss'))
        ? panel("indexof(datum.series, 'test') === 0 && indexof(datum.series, 'loss') < 0", 'test output')
        : undefined,
      points.some((p) => p.series === 'lr') ? panel("datum.series === 'lr'", 'learning rate') : undefined,
    ].filter(Boolean),
    resolve: { scale: { color: 'independent' } },
  };
  const compiled = vegaLite.compile(spec as unknown as vegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
