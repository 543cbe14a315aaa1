// BatchNorm layers written for the old BatchNorm definition declare three `param {}` entries (mean,
// variance, moving-average factor), usually to freeze them with lr_mult: 0. Caffe master's
// UpgradeNetBatchNorm (since BVLC PR #5184) keeps those entries, so `name`/`share_mode` still share blobs,
// and forces lr_mult and decay_mult to 0 in each: the statistics are computed, never learned.
import { has, type Message } from '../schema.js';

function isOldStyleBatchNorm(layer: Message): boolean {
  return layer.type === 'BatchNorm' && (layer.param as Message[]).length === 3;
}

/** Caffe's NetNeedsBatchNormUpgrade: some BatchNorm layer has exactly three `param` entries. */
export function netNeedsBatchNormUpgrade(net: Message): boolean {
  return (net.layer as Message[]).some(isOldStyleBatchNorm);
}

/**
 * Caffe's UpgradeNetBatchNorm, in place: every BatchNorm layer with exactly three `param` entries gets
 * lr_mult 0 and decay_mult 0 set in each of them; other ParamSpec fields are kept. Returns the number of
 * layers where this changed something (layers that already said `lr_mult: 0 decay_mult: 0` three times
 * come out identical and are not counted).
 */
export function upgradeNetBatchNorm(net: Message): number {
  let changed = 0;
  for (const layer of net.layer as Message[]) {
    if (!isOldStyleBatchNorm(layer)) continue;
    let layerChanged = false;
    for (const spec of layer.param as Message[]) {
      for (const field of ['lr_mult', 'decay_mult'] as const) {
        if (has(spec, field) && spec[field] === 0) continue;
        spec[field] = 0;
        layerChanged = true;
      }
    }
    if (layerChanged) changed++;
  }
  return changed;
}
