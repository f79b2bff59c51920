import { type DynamicModule,Global, Logger, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { CacheConfig } from '../../src/cache/cache.config.js';
import { GenesysConfig } from '../../src/config/genesys.config.js';
import { GenesysApiClient } from '../../src/genesys/platform/genesys-api.client.js';
import { GENESYS_PLATFORM_CLOCK, type GenesysPlatformClock } from '../../src/genesys/platform/genesys-clock.js';
import { GenesysPlatformConfig } from '../../src/genesys/platform/genesys-platform.config.js';
import { GenesysPlatformModule } from '../../src/genesys/platform/genesys-platform.module.js';
import { GenesysTokenService } from '../../src/genesys/platform/genesys-token.service.js';
import { ResilienceConfig } from '../../src/resilience/resilience.config.js';
import { ResilienceModule } from '../../src/resilience/resilience.module.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';
import { GenesysSimulator } from '../sandbox/genesys/genesys.simulator.js';
import { SANDBOX_CREDENTIALS } from '../sandbox/shared/credentials.js';

/**
 * The Platform API client against the Genesys simulator over real HTTP, inside Nest with the
 * ResilienceModule (so createCall runs through the 'genesys' policy as in the service). The
 * simulator and the token cache share one injected clock, so token lifetimes can be crossed
 * without waiting.
 */
const TOKEN_LIFETIME_S = 600;
/** Real time plus a shift the tests add to (shared by the simulator and the token cache). */
let shift = 0;
const clock = () => Date.now() + shift;
const sim = new GenesysSimulator({ tokenLifetimeSeconds: TOKEN_LIFETIME_S, now: clock });
let moduleRef: TestingModule | undefined;

beforeAll(async () => {
  Logger.overrideLogger(false);
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  shift = 0;
});
afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
});

/** Stands in for the global ConfigModule: the config sections these modules inject. */
function testConfig(platform: Partial<GenesysPlatformConfig>, genesys: Partial<GenesysConfig>): DynamicModule {
  const creds = SANDBOX_CREDENTIALS.genesys;
  const platformClock: GenesysPlatformClock = { now: clock };
  const providers = [
    { provide: GenesysConfig, useValue: Object.assign(new GenesysConfig(), { loginUrl: sim.url, apiUrl: sim.url, clientId: creds.clientId, clientSecret: creds.clientSecret, ...genesys }) },
    { provide: GenesysPlatformConfig, useValue: Object.assign(new GenesysPlatformConfig(), platform) },
    { provide: ResilienceConfig, useValue: new ResilienceConfig() },
    { provide: CacheConfig, useValue: new CacheConfig() },
    { provide: GENESYS_PLATFORM_CLOCK, useValue: platformClock },
  ];
  @Global()
  @Module({})
  class TestConfigModule {}
  return { module: TestConfigModule, providers, exports: providers.map((p) => p.provide) };
}

async function build(platform: Partial<GenesysPlatformConfig> = {}, genesys: Partial<GenesysConfig> = {}) {
  moduleRef = await Test.createTestingModule({ imports: [testConfig(platform, genesys), ResilienceModule, GenesysPlatformModule] }).compile();
  await moduleRef.init(); // the ResilienceExplorer wraps createCall here
  return { tokens: moduleRef.get(GenesysTokenService), api: moduleRef.get(GenesysApiClient) };
}

const signal = () => AbortSignal.timeout(10_000);

describe('GenesysTokenService against the simulator', () => {
  it('gets a token with Basic client credentials and keeps it for expires_in (refreshing 5 min before the end)', async () => {
    const { tokens } = await build();
    const t1 = await tokens.getToken(signal());
    expect(sim.callCount('token')).toBe(1); // the simulator only issues tokens for valid Basic credentials
    expect(sim.requests('token')[0]).toMatchObject({ method: 'POST', url: '/oauth/token', body: 'grant_type=client_credentials' });
    expect(sim.tokens.check(t1)).toBe('valid');

    shift += (TOKEN_LIFETIME_S - 301) * 1000; // 301 s left: still more than the 5 min margin
    expect(await tokens.getToken(signal())).toBe(t1);
    expect(sim.callCount('token')).toBe(1);

    shift += 2000; // 299 s left: served at once, refreshed in the background
    expect(await tokens.getToken(signal())).toBe(t1);
    await sim.whenCallsAtLeast(2, 'token'); // the background refresh reached Genesys
    // once its answer is taken in, the new token is served (bounded wait: nothing announces that moment)
    const t2 = await vi.waitFor(async () => {
      const token = await tokens.getToken(signal());
      expect(token).not.toBe(t1);
      return token;
    });
    expect(sim.tokens.check(t2)).toBe('valid');
    expect(sim.callCount('token')).toBe(2);
  });

  it('a short-lived client: expires_in from the token response decides (tokenTtlMs fault → expires_in 2)', async () => {
    sim.setFaults({ tokenTtlMs: 2000 });
    const { tokens } = await build({ tokenRefreshBeforeMs: 0 });
    const t1 = await tokens.getToken(signal());
    shift += 1000;
    expect(await tokens.getToken(signal())).toBe(t1);
    shift += 1000; // expired by its own expires_in: a new token before any call is refused
    const t2 = await tokens.getToken(signal());
    expect(t2).not.toBe(t1);
    expect(sim.callCount('token')).toBe(2);
  });

  it('50 concurrent callers cause one token request', async () => {
    const { tokens } = await build();
    const all = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken(signal())));
    expect(new Set(all).size).toBe(1);
    expect(sim.callCount('token')).toBe(1);
  });

  it('wrong client credentials: auth error, no retry', async () => {
    const { tokens } = await build({ retryBaseMs: 10 }, { clientSecret: 'wrong' });
    await expect(tokens.getToken(signal())).rejects.toMatchObject({ source: 'genesys', kind: 'auth', status: 401 });
    expect(sim.callCount('token')).toBe(1);
  });
});

describe('GenesysApiClient.createCall against the simulator', () => {
  it('places a call and returns its conversation id', async () => {
    const { api } = await build();
    const { conversationId } = await api.createCall('+14155550100', signal());
    expect(sim.placedCalls).toEqual([expect.objectContaining({ conversationId, phoneNumber: '+14155550100', body: { phoneNumber: '+14155550100' } })]);
    expect(sim.callCount('token')).toBe(1);
    await api.createCall('+14155550101', signal());
    expect(sim.callCount('token')).toBe(1); // the token is reused
    expect(sim.placedCalls).toHaveLength(2);
  });

  it('after /__sim/expire-tokens: one 401, re-authentication, success', async () => {
    const { api } = await build({ retryBaseMs: 50 });
    await api.createCall('+14155550100', signal());
    expect(sim.callCount('token')).toBe(1);

    const expired = await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' });
    expect(expired.status).toBe(200);

    const { conversationId } = await api.createCall('+14155550102', signal());
    // in this order: the call, the refused call, a new token, the call again (the backoff's length is the unit spec's)
    expect(sim.requests().map((r) => r.route)).toEqual(['token', 'createCall', 'createCall', 'token', 'createCall']);
    expect(sim.placedCalls.map((c) => c.conversationId)).toContain(conversationId);
    expect(sim.placedCalls).toHaveLength(2);
  });

  it('401 every time: auth error after GENESYS_API_MAX_RETRIES re-authentications', async () => {
    const { api } = await build({ retryBaseMs: 10, apiMaxRetries: 2 });
    sim.setFaults({ forcedStatus: 401, only: ['createCall'] }); // Genesys' 401 body, whatever the token
    await expect(api.createCall('+14155550100', signal())).rejects.toMatchObject({ source: 'genesys', kind: 'auth', status: 401 });
    expect(sim.callCount('createCall')).toBe(3);
    expect(sim.callCount('token')).toBe(3);
    expect(sim.placedCalls).toHaveLength(0);
  });

  it("429 with Genesys' Retry-After: waits for the next window, retries once with the same token, succeeds", async () => {
    const { api } = await build();
    sim.setFaults({ rateLimitPerSecond: 0, only: ['createCall'] }); // the call is refused…
    const call = api.createCall('+14155550110', signal());
    await sim.whenCallsAtLeast(1, 'createCall');
    sim.setFaults({ rateLimitPerSecond: null }); // …and the next window has room
    const { conversationId } = await call;
    expect(sim.placedCalls.map((c) => c.conversationId)).toEqual([conversationId]);
    const [refused, retried] = sim.requests('createCall');
    expect(sim.requests('createCall')).toHaveLength(2);
    expect(sim.calls().rateLimited).toBe(1); // it waited instead of hammering
    // Retry-After pointed past the refusal's one-second window: the retry lands in a later one
    expect(Math.floor(retried.at / 1000)).toBeGreaterThan(Math.floor(refused.at / 1000));
    expect(sim.callCount('token')).toBe(1);
  });

  it('token endpoint down (503): the token request is retried, then the call fails as unavailable', async () => {
    const { api } = await build({ retryBaseMs: 10 });
    sim.setFaults({ forcedStatus: 503, only: ['token'] });
    const err = await api.createCall('+14155550100', signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ source: 'genesys', kind: 'unavailable', status: 503 });
    expect(sim.callCount('token')).toBe(3);
    expect(sim.callCount('createCall')).toBe(0);

    sim.resetFaults(); // recovers on the next call
    await expect(api.createCall('+14155550100', signal())).resolves.toMatchObject({ conversationId: expect.any(String) });
  });
});
