// Temporary folders with layer modules and net files, and nets built from them the way the commands do
// (preload the ports, then build).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNetFile } from '../../../src/proto/load.js';
import { filterNet, Phase } from '../../../src/net/net-state.js';
import { Net } from '../../../src/net/net.js';
import { loadJsLayers } from '../../../src/layers/python/preload.js';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kdnet-pylayer-${tag}-`));
}

/** Writes files (relative name → text) under dir, creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

export interface BuildOptions {
  phase?: number;
  layersPath?: string[];
  preload?: boolean;
}

/** Writes `net.prototxt` into dir and builds it as a kdnet command would. */
export async function buildNet(dir: string, netText: string, o: BuildOptions = {}): Promise<Net> {
  const file = path.join(dir, 'net.prototxt');
  fs.writeFileSync(file, netText);
  const phase = o.phase ?? Phase.TRAIN;
  const { message } = loadNetFile(file);
  const filtered = filterNet(message, { phase, level: 0, stage: [] });
  if (o.preload !== false) await loadJsLayers(filtered, { layersPath: o.layersPath, baseDir: dir });
  return new Net(filtered, { phase, baseDir: dir, layersPath: o.layersPath, seed: 3 });
}

/** The KdnetError a call throws (fails the test when it throws nothing or something else). */
export async function errorOf(fn: () => unknown): Promise<Error & { report(): string }> {
  try {
    await fn();
  } catch (e) {
    if ((e as { name?: string }).name === 'KdnetError') return e as Error & { report(): string };
    throw e;
  }
  throw new Error('expected a KdnetError, nothing was thrown');
}
