// A vega-lite spec rendered to SVG text in Node (no browser, no canvas): the charts kdnet writes.
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

export async function vegaLiteSvg(spec: object): Promise<string> {
  const compiled = vegaLite.compile(spec as unknown as vegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
