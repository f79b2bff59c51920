import { Logger, type ExecutionContext } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AddressSet } from './cidr.js';
import { ForbiddenPolicyException } from './forbidden-policy.exception.js';
import { IpAllowlistConfig } from './ip-allowlist.config.js';
import { IpAllowlistGuard } from './ip-allowlist.guard.js';
import type { IpRangesRefresher } from './ip-ranges.refresher.js';

function guard(settings: Partial<IpAllowlistConfig>, fetched: string[] = []): IpAllowlistGuard {
  const config = Object.assign(new IpAllowlistConfig(), settings);
  const refresher = { current: AddressSet.parse(fetched) } as unknown as IpRangesRefresher;
  return new IpAllowlistGuard(config, refresher);
}

/** A Fastify request as the guard sees it: `ip` is what Fastify's trustProxy made of the peer and X-Forwarded-For. */
function context(remoteAddress: string | undefined, headers: Record<string, string | string[]> = {}, ip: string | undefined = remoteAddress): ExecutionContext {
  const request = { id: 'corr-1', headers, ip, raw: { socket: { remoteAddress } } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

afterEach(() => vi.restoreAllMocks());

describe('IpAllowlistGuard', () => {
  it('lets everything through when no network and no refresh are configured', () => {
    const g = guard({});
    expect(g.canActivate(context('203.0.113.9'))).toBe(true);
    expect(g.canActivate(context(undefined))).toBe(true);
  });

  it('allows a client inside GENESYS_ALLOWED_CIDRS (IPv4, IPv6 and mapped)', () => {
    const g = guard({ allowedCidrs: ['127.0.0.1/32', '2001:db8::/32'] });
    expect(g.canActivate(context('127.0.0.1'))).toBe(true);
    expect(g.canActivate(context('::ffff:127.0.0.1'))).toBe(true);
    expect(g.canActivate(context('2001:db8::42'))).toBe(true);
  });

  it('refuses anyone else with a plain 403 and logs the address, never the headers', () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const g = guard({ allowedCidrs: ['10.0.0.0/8'] });
    let thrown: unknown;
    try {
      g.canActivate(context('203.0.113.9', { authorization: 'Bearer secret-token', 'x-forwarded-for': '10.1.2.3' }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ForbiddenPolicyException);
    expect((thrown as ForbiddenPolicyException).getStatus()).toBe(403);
    expect((thrown as ForbiddenPolicyException).getResponse()).toEqual({ error: 'Forbidden' });
    expect(warn).toHaveBeenCalledWith({ msg: 'address refused', clientIp: '203.0.113.9', peer: '203.0.113.9', correlationId: 'corr-1' });
    expect(JSON.stringify(warn.mock.calls)).not.toContain('secret-token');
  });

  it('allows the ranges the refresher fetched, on top of the configured ones', () => {
    const g = guard({ allowedCidrs: ['10.0.0.0/8'], iprangesRefreshMs: 60_000 }, ['52.129.96.0/20']);
    expect(g.canActivate(context('52.129.100.1'))).toBe(true);
    expect(g.canActivate(context('10.0.0.1'))).toBe(true);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(() => g.canActivate(context('52.129.112.1'))).toThrow(ForbiddenPolicyException);
  });

  it('is on (fail closed) with only a refresh configured, before any range arrived', () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(() => guard({ iprangesRefreshMs: 60_000 }).canActivate(context('127.0.0.1'))).toThrow(ForbiddenPolicyException);
    expect(guard({ iprangesRefreshMs: 60_000 }, ['127.0.0.1/32']).canActivate(context('127.0.0.1'))).toBe(true);
  });

  it('judges the client Fastify determined (request.ip), not the proxy in front of it', () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const g = guard({ allowedCidrs: ['10.0.0.0/8'] });
    expect(g.canActivate(context('127.0.0.1', { 'x-forwarded-for': '10.1.2.3' }, '10.1.2.3'))).toBe(true);
    expect(g.canActivate(context('127.0.0.1', {}, '::ffff:10.1.2.3'))).toBe(true);
    expect(() => g.canActivate(context('10.0.0.1', { 'x-forwarded-for': '10.1.2.3, 203.0.113.9' }, '203.0.113.9'))).toThrow(ForbiddenPolicyException);
    expect(warn).toHaveBeenLastCalledWith(expect.objectContaining({ clientIp: '203.0.113.9', peer: '10.0.0.1' }));
  });

  it('refuses when the client cannot be known', () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const g = guard({ allowedCidrs: ['0.0.0.0/0', '::/0'] });
    expect(() => g.canActivate(context(undefined))).toThrow(ForbiddenPolicyException);
    // behind a trusted proxy that forwarded something that is not an address
    expect(() => g.canActivate(context('127.0.0.1', { 'x-forwarded-for': 'unknown' }, 'unknown'))).toThrow(ForbiddenPolicyException);
    expect(warn).toHaveBeenLastCalledWith(expect.objectContaining({ clientIp: 'unknown', peer: '127.0.0.1' }));
  });
});
