// Where the JavaScript port of a Python layer's module is looked for, like Python's sys.path: the folders
// given with --layers-path (in order), then KDNET_LAYERS_PATH, then the net file's own folder as a last resort.
// A Python module name maps to a file: `voc_layers` → voc_layers.js | .mjs | .cjs, `rpn.proposal_layer` →
// rpn/proposal_layer.js | ...
import fs from 'node:fs';
import path from 'node:path';

export interface JsLayerSearch {
  /** Folders from --layers-path (each entry may itself be a path-delimited list). */
  layersPath?: string[];
  /** Folder of the net file: searched last. */
  baseDir?: string;
}

export const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

/** Splits `a:b` (`a;b` on Windows) entries into folders, resolved against the working directory. */
export function parseLayersPath(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(path.delimiter)).filter((d) => d.trim() !== '').map((d) => path.resolve(d));
}

/** The folders searched, in order, without repeats. */
export function layerSearchDirs(search: JsLayerSearch): string[] {
  const dirs = [
    ...parseLayersPath(search.layersPath),
    ...parseLayersPath(process.env.KDNET_LAYERS_PATH ? [process.env.KDNET_LAYERS_PATH] : []),
    ...(search.baseDir !== undefined ? [path.resolve(search.baseDir)] : []),
  ];
  return [...new Set(dirs)];
}

const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Why a python_param.module value cannot name a module, or undefined when it can. */
export function badModuleName(module: string): string | undefined {
  if (MODULE_NAME.test(module)) {
    return /\.(py|js|mjs|cjs)$/.test(module) ? `'${module}' names a module with its file extension: write '${module.replace(/\.[a-z]+$/, '')}'` : undefined;
  }
  return `'${module}' is not a Python module name (dotted identifiers, like voc_layers or rpn.proposal_layer)`;
}

/** Module path relative to a search folder, without extension: `rpn.proposal_layer` → rpn/proposal_layer. */
export function moduleStem(module: string): string {
  return module.split('.').join(path.sep);
}

/** The first existing file for `module` in `dirs`, trying .js, .mjs, .cjs in each folder in turn. */
export function resolveModuleFile(module: string, dirs: readonly string[]): string | undefined {
  const stem = moduleStem(module);
  for (const dir of dirs) {
    for (const ext of MODULE_EXTENSIONS) {
      const candidate = path.join(dir, stem + ext);
      if (fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
    }
  }
  return undefined;
}
