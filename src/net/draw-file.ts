// A net file drawn to an SVG (or DOT) file, atomically: `kdnet draw`, and the drawing `kdnet distill init` puts
// beside the nets it composes.
import { loadNetFile } from '../proto/load.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { netToDot, type DrawOptions, type NetGraph } from './draw.js';
import { renderSvg } from './render-svg.js';

export async function drawNetFile(file: string, out: string, o: Omit<DrawOptions, 'file'> & { format?: 'svg' | 'dot' } = {}): Promise<NetGraph> {
  const { message } = loadNetFile(file);
  const graph = netToDot(message, { ...o, file });
  writeFileAtomic(out, o.format === 'dot' ? graph.dot : await renderSvg(graph.dot));
  return graph;
}
