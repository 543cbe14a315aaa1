// DOT → SVG with Graphviz compiled to wasm (@viz-js/viz): the same `dot` layout draw_net.py gets from pydot.
import { instance } from '@viz-js/viz';

/** Lays out and renders a DOT graph; a DOT error (a bug in netToDot, never user input) throws. */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  const result = viz.render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    throw new Error(`Graphviz could not lay out the net: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  return result.output;
}
