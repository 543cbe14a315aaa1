// Layer types kdnet can execute. Filled by the layer registry (src/layers/registry.ts) once layers exist;
// until then nothing runs and the support table says so.
const implemented = new Set<string>();

export function markImplemented(type: string): void {
  implemented.add(type);
}

export function implementedLayerTypes(): ReadonlySet<string> {
  return implemented;
}
