// Legacy nets and solvers → the current format, step by step in the order of Caffe's UpgradeNetAsNeeded /
// UpgradeSolverAsNeeded. Each step that changes something writes one info line naming the step, the file
// and a count, and adds its id to `applied`.
import type { Message } from '../schema.js';
import { log } from '../../log.js';
import { count, inSource } from './util.js';
import { netNeedsV0ToV1Upgrade, upgradeV0Net } from './v0-to-v1.js';
import {
  assertSingleLayerFormat,
  netNeedsDataUpgrade,
  netNeedsV1ToV2Upgrade,
  upgradeNetDataTransformation,
  upgradeV1Net,
} from './v1-to-v2.js';
import { netNeedsInputUpgrade, upgradeNetInput } from './input-fields.js';
import { netNeedsBatchNormUpgrade, upgradeNetBatchNorm } from './batchnorm.js';
import { solverNeedsTypeUpgrade, upgradeSolverType } from './solver-type.js';
import { netNeedsForkFieldUpgrade, upgradeForkFields } from './fork-fields.js';

export * from './v0-to-v1.js';
export * from './v1-to-v2.js';
export * from './input-fields.js';
export * from './batchnorm.js';
export * from './solver-type.js';
export { netNeedsForkFieldUpgrade, upgradeForkFields, type ForkFieldUpgrade } from './fork-fields.js';

export type NetUpgradeId =
  | 'v0-padding'
  | 'v0-to-v1'
  | 'data-transformation'
  | 'v1-to-v2'
  | 'input-fields'
  | 'batchnorm'
  | 'fork-fields';
export type SolverUpgradeId = 'solver-type';

export interface NetUpgradeResult {
  net: Message;
  applied: NetUpgradeId[];
}

export interface SolverUpgradeResult {
  solver: Message;
  applied: SolverUpgradeId[];
}

/** Whether upgradeNetParameter would change the net. */
export function netNeedsUpgrade(net: Message): boolean {
  return (
    netNeedsV0ToV1Upgrade(net) ||
    netNeedsDataUpgrade(net) ||
    netNeedsV1ToV2Upgrade(net) ||
    netNeedsInputUpgrade(net) ||
    netNeedsBatchNormUpgrade(net) ||
    netNeedsForkFieldUpgrade(net)
  );
}

/**
 * Upgrades a NetParameter in place, in Caffe's order: V0 → V1 (padding layers first), V1 data-layer
 * transformation fields, V1 → V2, net input fields → Input layer, old-style BatchNorm params; then kdnet's
 * mapping of well-known fork fields to master's. Throws KdnetError for what Caffe would refuse (and for a
 * net mixing `layers` and `layer`). `source` names the file in the log lines.
 */
export function upgradeNetParameter(net: Message, source?: string): NetUpgradeResult {
  const applied: NetUpgradeId[] = [];
  const where = inSource(source);
  assertSingleLayerFormat(net);

  if (netNeedsV0ToV1Upgrade(net)) {
    const { paddingLayers, layers } = upgradeV0Net(net);
    if (paddingLayers > 0) {
      log.info(
        `Folded V0 padding layers into the pad of the conv/pool layers reading them${where}: ${count(paddingLayers, 'padding layer')}`,
      );
      applied.push('v0-padding');
    }
    log.info(`Upgraded V0 layers to V1 layer format${where}: ${count(layers, 'layer')}`);
    applied.push('v0-to-v1');
  }

  if (netNeedsDataUpgrade(net)) {
    const layers = upgradeNetDataTransformation(net);
    log.info(
      `Moved V1 data layers' scale/mean_file/crop_size/mirror into transform_param${where}: ${count(layers, 'layer')}`,
    );
    applied.push('data-transformation');
  }

  if (netNeedsV1ToV2Upgrade(net)) {
    const layers = upgradeV1Net(net);
    log.info(`Upgraded V1 layers to V2 layer format${where}: ${count(layers, 'layer')}`);
    applied.push('v1-to-v2');
  }

  if (netNeedsInputUpgrade(net)) {
    const { inputs, inputLayer } = upgradeNetInput(net);
    log.info(
      inputLayer
        ? `Upgraded net input fields to an Input layer${where}: ${count(inputs, 'input')}`
        : `Removed net input fields without shapes${where}: ${count(inputs, 'input')}`,
    );
    applied.push('input-fields');
  }

  if (netNeedsBatchNormUpgrade(net)) {
    // Caffe runs this whenever a BatchNorm layer has three params; it counts as applied only if it changed one.
    const layers = upgradeNetBatchNorm(net);
    if (layers > 0) {
      log.info(`Upgraded BatchNorm param entries (lr_mult and decay_mult set to 0)${where}: ${count(layers, 'layer')}`);
      applied.push('batchnorm');
    }
  }

  if (netNeedsForkFieldUpgrade(net)) {
    const r = upgradeForkFields(net);
    if (r.ceilMode) log.info(`Upgraded fork field ceil_mode to round_mode${where}: ${count(r.ceilMode, 'layer')}`);
    if (r.scaleTrain) {
      const added = r.addedLayers.length ? ` (added ${count(r.addedLayers.length, 'Power layer')}: ${r.addedLayers.join(', ')})` : '';
      log.info(`Upgraded fork field scale_train to master's Dropout${where}: ${count(r.scaleTrain, 'layer')}${added}`);
    }
    applied.push('fork-fields');
  }

  return { net, applied };
}

/** Upgrades a SolverParameter in place (Caffe's UpgradeSolverAsNeeded: solver_type → type). */
export function upgradeSolverParameter(solver: Message, source?: string): SolverUpgradeResult {
  const applied: SolverUpgradeId[] = [];
  if (solverNeedsTypeUpgrade(solver)) {
    const change = upgradeSolverType(solver)!;
    log.info(`Upgraded solver_type ${change.from} to type "${change.to}"${inSource(source)}: 1 field`);
    applied.push('solver-type');
  }
  return { solver, applied };
}
