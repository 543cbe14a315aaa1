// Loaded layer modules by absolute file. ES modules can only be imported asynchronously while a Net is built
// synchronously, so they are imported beforehand (loadJsLayers) and looked up here; CommonJS (.cjs) modules
// can also be required on first use. An import that failed is kept too, so the layer that needs the module
// reports it (a module only some excluded layer refers to never stops a run).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export type LoadedModule = { ok: true; exports: Record<string, unknown> } | { ok: false; error: unknown };

const modules = new Map<string, LoadedModule>();
const requireModule = createRequire(import.meta.url);

/** Imports a module file once (ESM or CommonJS); never throws, a failure is recorded. */
export async function importLayerModule(file: string): Promise<void> {
  if (modules.has(file)) return;
  try {
    const ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    modules.set(file, { ok: true, exports: ns });
  } catch (error) {
    modules.set(file, { ok: false, error });
  }
}

/** The loaded module of `file`, requiring a CommonJS one on the spot; undefined when an ES module was not imported. */
export function loadedLayerModule(file: string): LoadedModule | undefined {
  const known = modules.get(file);
  if (known || !file.endsWith('.cjs')) return known;
  let loaded: LoadedModule;
  try {
    const exports = requireModule(file) as unknown;
    // Shaped like import()'s namespace of a CommonJS module: module.exports as `default`, its keys as names.
    const named = exports !== null && typeof exports === 'object' ? (exports as Record<string, unknown>) : {};
    loaded = { ok: true, exports: { ...named, default: exports } };
  } catch (error) {
    loaded = { ok: false, error };
  }
  modules.set(file, loaded);
  return loaded;
}
