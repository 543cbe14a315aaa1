// From a Python layer's python_param { module layer } to the JavaScript class that ports it: find the module
// file on the search path, take the loaded module, pick the export, check it has caffe.Layer's methods.
// Every failure is one message naming the module, the class and where kdnet looked.
import type { Message } from '../../proto/schema.js';
import { badModuleName, layerSearchDirs, moduleStem, resolveModuleFile, MODULE_EXTENSIONS, type JsLayerSearch } from './search-path.js';
import { loadedLayerModule } from './module-cache.js';

/** What a Python layer asks for. */
export interface PortSpec {
  module: string;
  layer: string;
  paramStr: string;
}

/** A port class: constructed with no arguments, then set up like pycaffe's caffe.Layer. */
export type PortClass = new () => PortInstance;
export interface PortInstance {
  setup(bottom: readonly unknown[], top: readonly unknown[]): unknown;
  reshape(bottom: readonly unknown[], top: readonly unknown[]): unknown;
  forward(bottom: readonly unknown[], top: readonly unknown[]): unknown;
  backward?(top: readonly unknown[], propagateDown: readonly boolean[], bottom: readonly unknown[]): unknown;
  [key: string]: unknown;
}

export const REQUIRED_METHODS = ['setup', 'reshape', 'forward'] as const;

/** python_param's module/layer/param_str, or the reason they do not name a port. */
export function portSpec(lp: Message): PortSpec | { problem: string } {
  const p = lp.python_param as Message | undefined;
  const module: string = p?.module ?? '';
  const layer: string = p?.layer ?? '';
  if (!module || !layer) {
    return { problem: 'a Python layer needs python_param { module: "..." layer: "..." } naming the module and class of its JavaScript port' };
  }
  const bad = badModuleName(module);
  if (bad) return { problem: `python_param.module ${bad}` };
  return { module, layer, paramStr: p?.param_str ?? '' };
}

export interface PortLookup {
  spec?: PortSpec;
  /** The module file found, if any. */
  file?: string;
  searched: string[];
  /** Set when no file can be used: the whole explanation. */
  problem?: string;
}

/** Finds the port's module file without loading it (what `kdnet check` needs). */
export function findPortFile(lp: Message, search: JsLayerSearch): PortLookup {
  const searched = layerSearchDirs(search);
  const spec = portSpec(lp);
  if ('problem' in spec) return { searched, problem: spec.problem };
  const file = resolveModuleFile(spec.module, searched);
  if (file) return { spec, file, searched };
  const names = MODULE_EXTENSIONS.map((e) => moduleStem(spec.module) + e).join(', ');
  return {
    spec,
    searched,
    problem:
      `no JavaScript port of Python module '${spec.module}' (class ${spec.layer}): looked for ${names} in ` +
      `${searched.length ? searched.join(', ') : 'no folder'}; give its folder with --layers-path DIR or KDNET_LAYERS_PATH`,
  };
}

/** The port class of a Python layer; throws `fail(message)` with the reason when there is none. */
export function resolvePortClass(lp: Message, search: JsLayerSearch, fail: (message: string) => Error): { spec: PortSpec; file: string; cls: PortClass } {
  const found = findPortFile(lp, search);
  if (found.problem || !found.spec || !found.file) throw fail(found.problem ?? 'no port');
  const { spec, file } = found;
  const where = `module '${spec.module}' (${file})`;
  const loaded = loadedLayerModule(file);
  if (!loaded) {
    throw fail(`${where} is an ES module that was not loaded yet: call loadJsLayers(net, { layersPath, baseDir }) before building the net (the kdnet commands do)`);
  }
  if (!loaded.ok) throw fail(`${where} failed to load: ${describeLoadError(loaded.error, file)}`);
  const value = pickExport(loaded.exports, spec.layer);
  if (value === undefined) {
    const names = exportNames(loaded.exports);
    throw fail(`${where} exports no class '${spec.layer}'; it exports ${names.length ? names.join(', ') : 'nothing'}`);
  }
  if (typeof value !== 'function' || !value.prototype) {
    throw fail(`${where}: export '${spec.layer}' is ${value === null ? 'null' : `a ${typeof value}`}, not a class`);
  }
  const missing = REQUIRED_METHODS.filter((m) => typeof (value.prototype as Record<string, unknown>)[m] !== 'function');
  if (missing.length) {
    throw fail(
      `class ${spec.layer} in ${where} has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}: a port needs setup(bottom, top), ` +
        'reshape(bottom, top), forward(bottom, top) and, to pass gradients, backward(top, propagate_down, bottom), as pycaffe\'s caffe.Layer',
    );
  }
  return { spec, file, cls: value as PortClass };
}

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** A named export, else a property of the default export, else a default-exported class of that name. */
function pickExport(ns: Record<string, unknown>, name: string): unknown {
  if (name !== 'default' && own(ns, name) && ns[name] !== undefined) return ns[name];
  const d = ns.default;
  if (d !== null && (typeof d === 'object' || typeof d === 'function')) {
    if (own(d, name)) return (d as Record<string, unknown>)[name];
    if (typeof d === 'function' && d.name === name) return d;
  }
  return undefined;
}

function exportNames(ns: Record<string, unknown>): string[] {
  const names = Object.keys(ns).filter((k) => k !== 'default' && k !== 'module.exports');
  const d = ns.default;
  if (typeof d === 'function') names.push(`default (${d.name ? `class ${d.name}` : 'an anonymous function'})`);
  else if (d !== null && typeof d === 'object') names.push(...Object.keys(d).filter((k) => !names.includes(k)).map((k) => `default.${k}`));
  return names;
}

function describeLoadError(error: unknown, file: string): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const esmInCjs = file.endsWith('.js') && /\b(import statement outside a module|Unexpected token 'export')/.test(message);
  return esmInCjs ? `${message} (a .js file is CommonJS unless the nearest package.json says "type": "module": name it .mjs)` : message;
}
