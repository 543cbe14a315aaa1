// BatchNorm layers with the three old-style `param {}` entries (Caffe's UpgradeNetBatchNorm, BVLC PR #5184).
import { describe, expect, it } from 'vitest';
import { netNeedsBatchNormUpgrade, upgradeNetBatchNorm } from '../../../src/proto/upgrade/batchnorm.js';
import { net, obj } from './helpers.js';

function bn(name: string, params: string): string {
  return `layer { name: '${name}' type: 'BatchNorm' bottom: 'x' top: 'x' ${params} }`;
}

describe('BatchNorm upgrade', () => {
  it('needs an upgrade only for BatchNorm layers with exactly three params', () => {
    expect(netNeedsBatchNormUpgrade(net(bn('bn', 'param { lr_mult: 0 } param { lr_mult: 0 } param { lr_mult: 0 }')))).toBe(true);
    expect(netNeedsBatchNormUpgrade(net(bn('bn', '')))).toBe(false);
    expect(netNeedsBatchNormUpgrade(net(bn('bn', 'param { lr_mult: 0 } param { lr_mult: 0 }')))).toBe(false);
    expect(
      netNeedsBatchNormUpgrade(
        net(`layer { name: 's' type: 'Scale' param { } param { } param { } }`),
      ),
    ).toBe(false);
  });

  it('sets lr_mult and decay_mult to 0 in all three params and keeps their names (the examples of PR #5184)', () => {
    const input = net(`
      ${bn('bn0', 'param { lr_mult: 0 } param { lr_mult: 0 } param { lr_mult: 0 }')}
      ${bn('bn1', 'param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 1 decay_mult: 0 } param { lr_mult: 1 decay_mult: 1 }')}
      ${bn('bn2', '')}
      ${bn('bn3', "param { lr_mult: 1 decay_mult: 1 name: 'bn_m' } param { lr_mult: 1 decay_mult: 1 name: 'bn_s' } param { lr_mult: 1 decay_mult: 1 name: 'bn_b' }")}
      ${bn('bn4', "param { name: 'bn_m' } param { name: 'bn_s' } param { name: 'bn_b' share_mode: PERMISSIVE }")}`);
    expect(upgradeNetBatchNorm(input)).toBe(4);
    const zero = 'lr_mult: 0 decay_mult: 0';
    const expected = net(`
      ${bn('bn0', `param { ${zero} } param { ${zero} } param { ${zero} }`)}
      ${bn('bn1', `param { ${zero} } param { ${zero} } param { ${zero} }`)}
      ${bn('bn2', '')}
      ${bn('bn3', `param { ${zero} name: 'bn_m' } param { ${zero} name: 'bn_s' } param { ${zero} name: 'bn_b' }`)}
      ${bn('bn4', `param { ${zero} name: 'bn_m' } param { ${zero} name: 'bn_s' } param { ${zero} name: 'bn_b' share_mode: PERMISSIVE }`)}`);
    expect(obj(input)).toEqual(obj(expected));
  });

  it('counts no change for layers already frozen with lr_mult: 0 decay_mult: 0', () => {
    const zero = 'lr_mult: 0 decay_mult: 0';
    const input = net(bn('bn', `param { ${zero} } param { ${zero} } param { ${zero} }`));
    const before = obj(input);
    expect(netNeedsBatchNormUpgrade(input)).toBe(true);
    expect(upgradeNetBatchNorm(input)).toBe(0);
    expect(obj(input)).toEqual(before);
  });
});
