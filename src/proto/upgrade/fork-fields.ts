// Fork fields with a master equivalent become that equivalent (the text keeps parsing either way; see
// FORK_FIELDS in ../forks.ts):
// - PoolingParameter.ceil_mode (BVLC PR #3057) → round_mode (CEIL / FLOOR).
// - DropoutParameter.scale_train (caffe-fast-rcnn). Its Dropout with scale_train: false keeps elements unscaled
//   at TRAIN (y = x·mask) and multiplies by 1/scale_ = (1 - ratio) at TEST; master's scales kept elements by
//   scale_ = 1/(1 - ratio) at TRAIN and copies at TEST. Master's Dropout followed by a Power layer of scale
//   1/scale_ computes the fork's function in both phases: at TEST bit for bit (the same float multiply), at
//   TRAIN to within float rounding, gradients likewise; so weights trained by the fork keep their meaning.
import { caffeEnum, has, newMessage, type Message } from '../schema.js';
import { foreignFields, setForeignFields, positionOf } from '../../prototxt/side-tables.js';
import type { AstField } from '../../prototxt/ast.js';
import { KdnetError } from '../../errors.js';
import { log } from '../../log.js';

const TRUE_WORDS = new Set(['true', '1', 'True', 't']);
const FALSE_WORDS = new Set(['false', '0', 'False', 'f']);

/** The value of a boolean fork field (the last occurrence, as protobuf keeps), removed from the message. */
function takeForeignBool(msg: Message, name: string, layerName: string, path: string): boolean | undefined {
  const fields = foreignFields(msg);
  const found = fields.filter((f: AstField) => f.name === name);
  if (!found.length) return undefined;
  const v = found[found.length - 1]!.values[0];
  const word = v?.kind === 'scalar' ? v.token.image : '';
  if (!TRUE_WORDS.has(word) && !FALSE_WORDS.has(word)) {
    throw new KdnetError(`${name} expects true or false, found '${word}'`, {
      layer: layerName,
      position: v?.kind === 'scalar' ? { line: v.token.startLine ?? 1, column: v.token.startColumn ?? 1 } : positionOf(msg),
      path: `layer "${layerName}".${path}.${name}`,
    });
  }
  setForeignFields(msg, fields.filter((f) => f.name !== name));
  return TRUE_WORDS.has(word);
}

function mapCeilMode(pooling: Message, layerName: string): boolean {
  const value = takeForeignBool(pooling, 'ceil_mode', layerName, 'pooling_param');
  if (value === undefined) return false;
  const mode = caffeEnum('PoolingParameter.RoundMode').values[value ? 'CEIL' : 'FLOOR']!;
  if (has(pooling, 'round_mode') && pooling.round_mode !== mode) {
    throw new KdnetError('ceil_mode and round_mode disagree', { layer: layerName, path: `layer "${layerName}".pooling_param` });
  }
  pooling.round_mode = mode;
  return true;
}

const hasForeign = (msg: Message | undefined, name: string) => msg !== undefined && foreignFields(msg).some((f) => f.name === name);

export function netNeedsForkFieldUpgrade(net: Message): boolean {
  return (net.layer as Message[]).some(
    (l) => (has(l, 'pooling_param') && hasForeign(l.pooling_param, 'ceil_mode')) || (has(l, 'dropout_param') && hasForeign(l.dropout_param, 'scale_train')),
  );
}

function uniqueName(wanted: string, taken: Set<string>): string {
  let name = wanted;
  for (let i = 2; taken.has(name); i++) name = `${wanted}_${i}`;
  taken.add(name);
  return name;
}

/** The Power layer that makes master's Dropout compute the fork's scale_train: false Dropout. */
function testTimeScaleLayer(dropout: Message, taken: Set<string>): Message {
  const ratio = Math.fround(dropout.dropout_param.dropout_ratio as number);
  // The fork multiplies by 1. / scale_ with scale_ = 1. / (1. - threshold_) stored as float: the same float here.
  const scale = Math.fround(1 / Math.fround(1 / (1 - ratio)));
  const top = (dropout.top as string[])[0]!;
  const name = uniqueName(`${dropout.name}_scale_train`, taken);
  log.warn(
    `layer "${dropout.name}": dropout_param { scale_train: false } (py-faster-rcnn's Dropout) scales by 1 - dropout_ratio = ${scale} at TEST ` +
      `instead of by 1/(1 - dropout_ratio) at TRAIN; added the Power layer "${name}" (scale ${scale}) after it, so master's Dropout ` +
      'computes the same function and the trained weights keep their meaning (TEST outputs bit for bit, TRAIN to within float rounding)',
  );
  return newMessage('LayerParameter', {
    name,
    type: 'Power',
    bottom: [top],
    top: [top],
    include: [...(dropout.include as Message[])],
    exclude: [...(dropout.exclude as Message[])],
    power_param: newMessage('PowerParameter', { scale }),
  });
}

export interface ForkFieldUpgrade {
  /** Pooling layers whose ceil_mode became round_mode. */
  ceilMode: number;
  /** Dropout layers whose scale_train was removed. */
  scaleTrain: number;
  /** Power layers added for scale_train: false. */
  addedLayers: string[];
}

export function upgradeForkFields(net: Message): ForkFieldUpgrade {
  const result: ForkFieldUpgrade = { ceilMode: 0, scaleTrain: 0, addedLayers: [] };
  const taken = new Set((net.layer as Message[]).map((l) => l.name as string));
  const out: Message[] = [];
  for (const layer of net.layer as Message[]) {
    out.push(layer);
    if (has(layer, 'pooling_param') && mapCeilMode(layer.pooling_param, layer.name)) result.ceilMode++;
    if (!has(layer, 'dropout_param')) continue;
    const scaleTrain = takeForeignBool(layer.dropout_param, 'scale_train', layer.name, 'dropout_param');
    if (scaleTrain === undefined) continue;
    result.scaleTrain++;
    if (scaleTrain || !(layer.top as string[]).length) continue; // true is master's behaviour
    const power = testTimeScaleLayer(layer, taken);
    out.push(power);
    result.addedLayers.push(power.name);
  }
  net.layer = out;
  return result;
}
