// Kernel workarounds for known tfjs 4.22 backend gaps, registered into tfjs' kernel registry so the rest of
// kdnet calls plain tfjs ops. Each replaced kernel lives in its own file under ./kernels/ with a test that
// fails when the workaround is removed.
import type { BackendName } from './select.js';

const registered = new Set<BackendName>();
const installers: Partial<Record<BackendName, Array<() => void>>> = {};

/** Kernel files add themselves here (one call per replaced kernel). */
export function addWorkaround(backend: BackendName, install: () => void): void {
  (installers[backend] ??= []).push(install);
}

export function registerWorkarounds(backend: BackendName): void {
  if (registered.has(backend)) return;
  registered.add(backend);
  for (const install of installers[backend] ?? []) install();
}
