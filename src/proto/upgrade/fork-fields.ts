// Fork fields with a master equivalent become that equivalent (the text keeps parsing either way; see
// KNOWN_FORK_FIELDS in ../text.ts). Today: PoolingParameter.ceil_mode → round_mode (CEIL / FLOOR).
import { caffeEnum, has, type Message } from '../schema.js';
import { foreignFields, setForeignFields, positionOf } from '../../prototxt/side-tables.js';
import { KdnetError } from '../../errors.js';

function mapCeilMode(pooling: Message, layerName: string): boolean {
  const fields = foreignFields(pooling);
  const ceil = fields.filter((f) => f.name === 'ceil_mode');
  if (!ceil.length) return false;
  const v = ceil[ceil.length - 1]!.values[0];
  const word = v?.kind === 'scalar' ? v.token.image : '';
  const value = word === 'true' || word === '1' || word === 'True' || word === 't';
  if (!value && !(word === 'false' || word === '0' || word === 'False' || word === 'f')) {
    throw new KdnetError(`ceil_mode expects true or false, found '${word}'`, {
      layer: layerName,
      position: v?.kind === 'scalar' ? { line: v.token.startLine ?? 1, column: v.token.startColumn ?? 1 } : positionOf(pooling),
      path: `layer "${layerName}".pooling_param.ceil_mode`,
    });
  }
  const mode = caffeEnum('PoolingParameter.RoundMode').values[value ? 'CEIL' : 'FLOOR']!;
  if (has(pooling, 'round_mode') && pooling.round_mode !== mode) {
    throw new KdnetError('ceil_mode and round_mode disagree', { layer: layerName, path: `layer "${layerName}".pooling_param` });
  }
  pooling.round_mode = mode;
  setForeignFields(pooling, fields.filter((f) => f.name !== 'ceil_mode'));
  return true;
}

export function netNeedsForkFieldUpgrade(net: Message): boolean {
  return (net.layer as Message[]).some((l) => has(l, 'pooling_param') && foreignFields(l.pooling_param).some((f) => f.name === 'ceil_mode'));
}

/** Returns how many layers changed. */
export function upgradeForkFields(net: Message): number {
  let changed = 0;
  for (const layer of net.layer as Message[]) {
    if (has(layer, 'pooling_param') && mapCeilMode(layer.pooling_param, layer.name)) changed++;
  }
  return changed;
}
