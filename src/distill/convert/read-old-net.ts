// Old distillation setups are read as any net is (parse, bind, upgrade), with one allowance: a V1 layer whose
// `type:` is an enum value stock Caffe never had — the 2015 recipe's CROSS_ENTROPY_LOSS, from a patched
// caffe.proto — would stop the binder. Such a type is taken out of the syntax tree before binding and put back
// as the layer's type string after the V1 → V2 upgrade, where any string is a type, so the recipe matchers
// see it. Binary .caffemodel inputs are read like weights (forks' field numbers included).
import { caffeEnum, type Message } from '../../proto/schema.js';
import { bindCaffeAst, parseCaffeAst, readTextFile } from '../../proto/text.js';
import { detectNetFormat, type NetFormat } from '../../proto/load.js';
import { upgradeNetParameter } from '../../proto/upgrade/index.js';
import { readCaffemodel } from '../../proto/weights.js';
import { positionOf } from '../../prototxt/side-tables.js';
import type { AstMessage } from '../../prototxt/ast.js';

export interface OldNet {
  net: Message;
  format: NetFormat;
  binary: boolean;
  upgrades: string[];
  warnings: string[];
  /** V1 layer types outside caffe.proto's enum, kept as type strings. */
  foreignV1Types: Array<{ layer: string; type: string }>;
}

/** Binary input: a .caffemodel (weights with the net definition); anything else is text. */
export function isBinaryNet(file: string): boolean {
  return /\.caffemodel$/i.test(file);
}

/** Removes unknown V1 `type:` enum words from the tree; returns them keyed by their layer block's position. */
function takeForeignV1Types(ast: AstMessage): Map<string, string> {
  const known = caffeEnum('V1LayerParameter.LayerType').values;
  const taken = new Map<string, string>();
  for (const f of ast.fields) {
    if (f.name !== 'layers') continue;
    for (const block of f.values) {
      if (block.kind !== 'message' || !block.open) continue;
      const i = block.fields.findIndex((t) => {
        const v = t.values[0];
        return t.name === 'type' && v?.kind === 'scalar' && !v.negative && v.token.tokenType.name === 'Identifier' && known[v.token.image] === undefined;
      });
      if (i < 0) continue;
      const v = block.fields[i]!.values[0]!;
      if (v.kind === 'scalar') taken.set(`${block.open.startLine}:${block.open.startColumn}`, v.token.image);
      block.fields.splice(i, 1);
    }
  }
  return taken;
}

export function readOldNet(file: string): OldNet {
  if (isBinaryNet(file)) {
    const message = readCaffemodel(file);
    const format = detectNetFormat(message);
    const { net, applied } = upgradeNetParameter(message, file);
    return { net, format, binary: true, upgrades: applied, warnings: [], foreignV1Types: [] };
  }
  const ast = parseCaffeAst(readTextFile(file), file);
  const taken = takeForeignV1Types(ast);
  const parsed = bindCaffeAst(ast, 'NetParameter', file);
  const format = detectNetFormat(parsed.message);
  const { net, applied } = upgradeNetParameter(parsed.message, file);
  const foreignV1Types: OldNet['foreignV1Types'] = [];
  for (const layer of net.layer as Message[]) {
    const p = positionOf(layer);
    const type = p && taken.get(`${p.line}:${p.column}`);
    if (!type) continue;
    layer.type = type;
    foreignV1Types.push({ layer: layer.name, type });
  }
  return { net, format, binary: false, upgrades: applied, warnings: parsed.warnings.map((w) => w.message), foreignV1Types };
}
