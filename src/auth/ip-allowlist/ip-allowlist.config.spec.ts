import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';

import { envBindings } from '../../config/env.decorator.js';
import { IpAllowlistConfig } from './ip-allowlist.config.js';

function problems(settings: Partial<IpAllowlistConfig>): string[] {
  const errors = validateSync(Object.assign(new IpAllowlistConfig(), settings), { forbidUnknownValues: false });
  return errors.flatMap((e) => Object.values(e.constraints ?? {}));
}

describe('IpAllowlistConfig', () => {
  it('binds its variables, the lists as comma-separated lists', () => {
    const types = Object.fromEntries(envBindings(IpAllowlistConfig).map((b) => [b.name, b.type]));
    expect(Object.keys(types)).toEqual(['GENESYS_ALLOWED_CIDRS', 'GENESYS_IPRANGES_REFRESH_MS', 'GENESYS_IPRANGES_SERVICES', 'TRUSTED_PROXY_CIDRS']);
    expect([types.GENESYS_ALLOWED_CIDRS, types.GENESYS_IPRANGES_SERVICES, types.TRUSTED_PROXY_CIDRS]).toEqual(['list', 'list', 'list']);
  });

  it('defaults to off: no networks, no refresh, no trusted proxy, data-actions ranges', () => {
    const c = new IpAllowlistConfig();
    expect(problems({})).toEqual([]);
    expect(c.enabled).toBe(false);
    expect(c.iprangesServices).toEqual(['data-actions']);
    expect(c.trustedProxyCidrs).toEqual([]);
  });

  it('accepts IPv4 and IPv6 networks and single addresses', () => {
    expect(problems({ allowedCidrs: ['10.0.0.0/8', '2001:db8::/32', '127.0.0.1', '::ffff:10.0.0.0/104'], trustedProxyCidrs: ['172.16.0.0/12', 'fd00::/8'] })).toEqual([]);
    expect(Object.assign(new IpAllowlistConfig(), { allowedCidrs: ['10.0.0.0/8'] }).enabled).toBe(true);
  });

  it('names the entry that is not a CIDR', () => {
    expect(problems({ allowedCidrs: ['10.0.0.0/8', '10.0.0.0/33'] })).toEqual([
      'allowedCidrs must be comma-separated CIDRs such as 10.0.0.0/8 or 2001:db8::/32; not a CIDR: "10.0.0.0/33"',
    ]);
    expect(problems({ trustedProxyCidrs: ['proxy.internal'] })[0]).toContain('not a CIDR: "proxy.internal"');
  });

  it('takes 0 (off) or a sane refresh period', () => {
    expect(problems({ iprangesRefreshMs: 0 })).toEqual([]);
    expect(problems({ iprangesRefreshMs: 3_600_000 })).toEqual([]);
    expect(problems({ iprangesRefreshMs: 500 })).toEqual(['iprangesRefreshMs must be 0 (off) or at least 10000']);
    expect(problems({ iprangesRefreshMs: -1 })).toHaveLength(1);
    expect(problems({ iprangesRefreshMs: 'soon' as unknown as number })).not.toEqual([]);
    expect(Object.assign(new IpAllowlistConfig(), { iprangesRefreshMs: 60_000 }).enabled).toBe(true);
  });
});
