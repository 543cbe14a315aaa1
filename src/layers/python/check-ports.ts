// What `kdnet check` says about Python layers: each one's port file is looked for (not loaded: check is
// static), and every layer without one is listed in one error.
import type { Message } from '../../proto/schema.js';
import { positionOf } from '../../prototxt/side-tables.js';
import { KdnetError, type SourcePosition } from '../../errors.js';
import { findPortFile, type PortLookup } from './port.js';
import type { JsLayerSearch } from './search-path.js';

/** A port lookup with the place of the layer's python_param, for messages. */
export type PortReport = PortLookup & { position?: SourcePosition };

/** The port lookup of a Python layer (its `problem` says why it cannot run), undefined for other layer types. */
export function jsPortOf(lp: Message, search: JsLayerSearch): PortReport | undefined {
  return lp.type === 'Python' ? { ...findPortFile(lp, search), position: positionOf(lp, 'python_param') ?? positionOf(lp) } : undefined;
}

/** One error listing every Python layer whose port is missing (a line each), or undefined when all are found. */
export function missingPortsError(rows: ReadonlyArray<{ name: string; jsPort?: PortReport }>): KdnetError | undefined {
  const errors = rows
    .filter((r) => r.jsPort?.problem)
    .map((r) => new KdnetError(r.jsPort!.problem!, { layer: r.name, position: r.jsPort!.position, path: `layer "${r.name}" (Python).python_param` }));
  return errors.length ? KdnetError.combine(errors) : undefined;
}

/** How the check table shows a Python layer's type. */
export function portLabel(port: PortLookup): string {
  const name = port.spec ? `${port.spec.module}.${port.spec.layer}` : 'python_param incomplete';
  return port.problem ? `Python (${name}: no JS port)` : `Python (${name})`;
}
