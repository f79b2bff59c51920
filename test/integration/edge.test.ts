import { getStorageToken } from '@nestjs/throttler';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { InboundThrottleStorage } from '../../src/auth/inbound-throttle.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { resetSimulators, type Simulators, startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { startService, type TestService,throttleWindowMs } from '../support/test-app.js';

let sims: Simulators;
let redis: RedisServer;
const services: TestService[] = [];

beforeAll(async () => {
  [sims, redis] = await Promise.all([startSimulators(), RedisServer.start()]);
});
afterAll(async () => {
  await stopSimulators(sims);
  await redis.stop();
});
beforeEach(async () => {
  resetSimulators(sims);
  await redis.flush(); // no throttle count left by another test
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function service(env: Record<string, string>): Promise<TestService> {
  const s = await startService({ sims, env });
  services.push(s);
  return s;
}

describe('security headers', () => {
  it('sends CSP, HSTS, nosniff and frame protection, and never advertises the stack', async () => {
    const s = await service({});
    const res = await s.get(`/v1/customers/${DEMO.healthy}`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('strict-transport-security')).toContain('max-age=31536000');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('sends the same security headers and no-store on every answer, refusals included; a route may set its own', async () => {
    const s = await service({ THROTTLE_LIMIT: '1', THROTTLE_TTL_MS: throttleWindowMs() });
    // an unknown route and a body that does not parse never reach the throttle; the second look-up is refused by it
    const answers = [await s.get(`/v1/customers/${DEMO.healthy}`), await s.get('/nope'), await s.post('/genesys/v1/customer-lookup', '{"customerId":')];
    answers.push(await s.get(`/v1/customers/${DEMO.healthy}`));
    expect(answers.map((r) => r.status)).toEqual([200, 404, 400, 429]);
    const first = answers[0].headers;
    for (const res of answers) {
      for (const name of ['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy']) {
        expect(res.headers.get(name), name).toBe(first.get(name));
        expect(res.headers.get(name), name).toBeTruthy();
      }
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBeNull();
    }
    // the side panel page replaces the CSP (framed by the Genesys desktop); its versioned assets are cacheable
    const other = await service({});
    const page = await other.get('/widget');
    expect(page.headers.get('content-security-policy')).not.toBe(first.get('content-security-policy'));
    expect(page.headers.get('cache-control')).toBe('no-store');
    const asset = /src="\/widget\/assets\/([^"?]+)\?v=([^"]+)"/.exec(page.text);
    expect(asset).not.toBeNull();
    const cached = await other.get(`/widget/assets/${asset![1]}?v=${asset![2]}`);
    expect(cached.headers.get('cache-control')).toContain('immutable');
    expect(cached.headers.get('strict-transport-security')).toBe(first.get('strict-transport-security'));
  });

  it('refuses a body over the size limit with 413 and a sanitized body', async () => {
    const s = await service({ BODY_LIMIT_BYTES: '2048' });
    const res = await s.post('/genesys/v1/customer-lookup', JSON.stringify({ phone: 'x'.repeat(4096) }));
    expect(res.status).toBe(413);
    expect(res.text).not.toMatch(/FST_|fastify/i);
  });
});

describe('inbound throttling', () => {
  it('answers 429 past the limit per client, and never throttles health probes', async () => {
    const s = await service({ THROTTLE_LIMIT: '3', THROTTLE_TTL_MS: throttleWindowMs() });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.get(`/v1/customers/${DEMO.healthy}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    for (let i = 0; i < 5; i++) expect((await s.get('/health/ready')).status).toBe(200);
  });

  it('counts each real client behind a trusted proxy, not the proxy', async () => {
    const s = await service({ THROTTLE_LIMIT: '2', THROTTLE_TTL_MS: throttleWindowMs(), TRUSTED_PROXY_CIDRS: '127.0.0.1/32' });
    const from = async (client: string) => (await s.get(`/v1/customers/${DEMO.healthy}`, { 'x-forwarded-for': client })).status;
    expect([await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.1')]).toEqual([200, 200, 429]);
    expect([await from('198.51.100.2'), await from('198.51.100.2')]).toEqual([200, 200]); // another caller, its own budget
    // an untrusted peer's X-Forwarded-For is ignored: rotating it buys nothing
    const direct = await service({ THROTTLE_LIMIT: '2', THROTTLE_TTL_MS: throttleWindowMs() });
    const statuses = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) statuses.push((await direct.get(`/v1/customers/${DEMO.healthy}`, { 'x-forwarded-for': client })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('shares the count across replicas through Redis: each counts locally, and they learn of one another at each sync', async () => {
    const env = { THROTTLE_LIMIT: '4', THROTTLE_TTL_MS: throttleWindowMs(), REDIS_URL: redis.url };
    const a = await service(env);
    const b = await service(env);
    const status = async (s: TestService) => (await s.get(`/v1/customers/${DEMO.manyTickets}`)).status;
    expect([await status(a), await status(b), await status(a)]).toEqual([200, 200, 200]);
    await shareCounts(a, b);
    expect(await status(b)).toBe(200); // the fourth of the shared budget
    await shareCounts(a, b);
    expect([await status(a), await status(b)]).toEqual([429, 429]);
  });
});

/** What the throttle does every THROTTLE_SYNC_MS, now: each replica adds its hits to Redis, then each reads the total. */
async function shareCounts(...replicas: TestService[]): Promise<void> {
  const storages = replicas.map((s) => s.app.get<InboundThrottleStorage>(getStorageToken()));
  for (const storage of [...storages, ...storages]) await storage.sync();
}

describe('IP allowlist on the Genesys endpoint', () => {
  it('refuses callers outside the configured ranges with a plain 403, whatever X-Forwarded-For says, and leaves /v1 alone', async () => {
    const s = await service({ GENESYS_ALLOWED_CIDRS: '10.0.0.0/8,2001:db8::/32' });
    const res = await s.post('/genesys/v1/customer-lookup', { customerId: DEMO.healthy }, { 'x-forwarded-for': '10.1.2.3' });
    expect(res.status).toBe(403);
    expect(res.text).toBe('{"error":"Forbidden"}');
    expect((await s.get(`/v1/customers/${DEMO.healthy}`)).status).toBe(200);
  });

  it('trusts X-Forwarded-For only from a configured proxy', async () => {
    const s = await service({ GENESYS_ALLOWED_CIDRS: '10.0.0.0/8', TRUSTED_PROXY_CIDRS: '127.0.0.1/32' });
    expect((await s.post('/genesys/v1/customer-lookup', { customerId: DEMO.healthy }, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(200);
    expect((await s.post('/genesys/v1/customer-lookup', { customerId: DEMO.healthy }, { 'x-forwarded-for': '10.1.2.3, 192.0.2.7' })).status).toBe(403);
  });
});
