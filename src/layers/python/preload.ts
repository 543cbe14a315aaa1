// The asynchronous step before building a net with Python layers: import each port's module (ES modules
// load only asynchronously, a Net is built synchronously). A port that cannot be found or loaded is not an
// error here: the layer that needs it reports it when the net is built, so a layer excluded from the net
// (by phase, level or stage) never stops a run.
import path from 'node:path';
import type { Message } from '../../proto/schema.js';
import { loadNetFile } from '../../proto/load.js';
import { findPortFile } from './port.js';
import { importLayerModule } from './module-cache.js';
import type { JsLayerSearch } from './search-path.js';

/** Imports the JavaScript ports of every Python layer in `net`. Call it before `new Net(net, ...)`. */
export async function loadJsLayers(net: Message, search: JsLayerSearch = {}): Promise<void> {
  const files = new Set<string>();
  for (const lp of net.layer as Message[]) {
    if (lp.type !== 'Python') continue;
    const { file } = findPortFile(lp, search);
    if (file) files.add(file);
  }
  for (const file of files) await importLayerModule(file);
}

/** loadJsLayers for a net file, searching its folder last. */
export async function loadJsLayersOfNetFile(file: string, layersPath?: string[]): Promise<void> {
  await loadJsLayers(loadNetFile(file).message, { layersPath, baseDir: path.dirname(file) });
}
