import { Logger } from '@nestjs/common';
import { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectorError } from '../../connectors/connector.errors.js';
import { GenesysConfig } from '../../genesys/genesys.config.js';
import { formatCidr } from './cidr.js';
import { IpAllowlistConfig } from './ip-allowlist.config.js';
import { IpRangesRefresher, rangesFromResponse } from './ip-ranges.refresher.js';

const entity = (cidr: unknown, service: unknown) => ({ cidr, service, region: 'us-east-1', direction: 'outbound' });

describe('rangesFromResponse', () => {
  it('keeps the networks of the wanted services only', () => {
    const body = { entities: [entity('52.129.96.0/20', 'data-actions'), entity('52.129.96.0/21', 'smtp'), entity('2600:1f18:4b8d:6a00::/56', 'data-actions'), entity('34.231.240.0/24', 'audiohook')] };
    expect(rangesFromResponse(body, ['data-actions']).networks.map(formatCidr)).toEqual(['52.129.96.0/20', '2600:1f18:4b8d:6a00::/56']);
    expect(rangesFromResponse(body, ['smtp', 'audiohook']).networks.map(formatCidr)).toEqual(['52.129.96.0/21', '34.231.240.0/24']);
  });

  it('skips (and counts) entries whose cidr does not parse', () => {
    const body = { entities: [entity('52.129.96.0/20', 'data-actions'), entity('52.129.96.0/99', 'data-actions'), entity(42, 'data-actions'), null, 'x', entity('1.2.3.0/24', 7)] };
    expect(rangesFromResponse(body, ['data-actions'])).toEqual({ networks: [{ address: '52.129.96.0', prefix: 20, family: 'ipv4' }], skipped: 2 });
  });

  it.each([
    ['no entities', {}],
    ['entities not a list', { entities: {} }],
    ['null', null],
    ['an empty list', { entities: [] }],
    ['no wanted service', { entities: [entity('52.129.96.0/21', 'smtp')] }],
    ['only broken wanted entries', { entities: [entity('nope', 'data-actions')] }],
  ])('refuses %s as a bad response (the last list stays)', (_what, body) => {
    expect(() => rangesFromResponse(body, ['data-actions'])).toThrow(ConnectorError);
  });
});

describe('IpRangesRefresher lifecycle', () => {
  const GENESYS_HOST = 'api.genesys.example';
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  function refresher(refreshMs: number): IpRangesRefresher {
    const config = Object.assign(new IpAllowlistConfig(), { iprangesRefreshMs: refreshMs });
    const genesys = Object.assign(new GenesysConfig(), { apiUrl: `https://${GENESYS_HOST}` });
    const r = new IpRangesRefresher(config, genesys);
    // Genesys unreachable, without a socket (a unit spec opens none): the HTTP client's adapter
    // fails the way a refused connection does; over real HTTP see test/integration/ip-allowlist.test.ts
    (r as unknown as { http: AxiosInstance }).http.defaults.adapter = (request: InternalAxiosRequestConfig) =>
      Promise.reject(new AxiosError(`connect ECONNREFUSED ${GENESYS_HOST}:443`, 'ECONNREFUSED', request));
    return r;
  }

  it('does nothing when the refresh is off', async () => {
    const r = refresher(0);
    const refresh = vi.spyOn(r, 'refreshNow');
    await r.onModuleInit();
    expect(refresh).not.toHaveBeenCalled();
    r.onApplicationShutdown();
  });

  it('refreshes at start, then on an unref\'d timer, until shutdown', async () => {
    vi.useFakeTimers();
    const r = refresher(60_000);
    const refresh = vi.spyOn(r, 'refreshNow').mockResolvedValue();
    await r.onModuleInit();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect((r as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(refresh).toHaveBeenCalledTimes(3);
    r.onApplicationShutdown();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(refresh).toHaveBeenCalledTimes(3);
  });

  it('never rejects: a failed refresh is logged and recorded, the list stays', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const r = refresher(60_000);
    await expect(r.refreshNow()).resolves.toBeUndefined();
    expect(r.current.size).toBe(0);
    expect(r.snapshot()).toMatchObject({ cidrs: [], lastError: expect.stringContaining('connection failed') });
    expect(r.snapshot().lastFailureAt).toBeTypeOf('number');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(GENESYS_HOST);
    r.onApplicationShutdown();
  });

  it('shares one request between concurrent calls', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const r = refresher(60_000);
    const first = r.refreshNow();
    expect(r.refreshNow()).toBe(first);
    await first;
    const second = r.refreshNow();
    expect(second).not.toBe(first);
    await second;
    r.onApplicationShutdown();
  });
});
