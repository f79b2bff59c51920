import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEMO } from '../sandbox/shared/seed.js';
import { resetSimulators, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { startService, type TestService } from '../support/test-app.js';

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

  it('refuses a body over the size limit with 413 and a sanitized body', async () => {
    const s = await service({ BODY_LIMIT_BYTES: '2048' });
    const res = await s.post('/genesys/v1/customer-lookup', JSON.stringify({ phone: 'x'.repeat(4096) }));
    expect(res.status).toBe(413);
    expect(res.text).not.toMatch(/FST_|fastify/i);
  });
});

describe('inbound throttling', () => {
  it('answers 429 past the limit per client, and never throttles health probes', async () => {
    const s = await service({ THROTTLE_LIMIT: '3', THROTTLE_TTL_MS: '60000' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.get(`/v1/customers/${DEMO.healthy}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    for (let i = 0; i < 5; i++) expect((await s.get('/health/ready')).status).toBe(200);
  });

  it('counts each real client behind a trusted proxy, not the proxy', async () => {
    const s = await service({ THROTTLE_LIMIT: '2', THROTTLE_TTL_MS: '60000', TRUSTED_PROXY_CIDRS: '127.0.0.1/32' });
    const from = async (client: string) => (await s.get(`/v1/customers/${DEMO.healthy}`, { 'x-forwarded-for': client })).status;
    expect([await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.1')]).toEqual([200, 200, 429]);
    expect([await from('198.51.100.2'), await from('198.51.100.2')]).toEqual([200, 200]); // another caller, its own budget
    // an untrusted peer's X-Forwarded-For is ignored: rotating it buys nothing
    const direct = await service({ THROTTLE_LIMIT: '2', THROTTLE_TTL_MS: '60000' });
    const statuses = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) statuses.push((await direct.get(`/v1/customers/${DEMO.healthy}`, { 'x-forwarded-for': client })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('shares the count across replicas through Redis', async () => {
    const env = { THROTTLE_LIMIT: '4', THROTTLE_TTL_MS: '60000', REDIS_URL: redis.url };
    const a = await service(env);
    const b = await service(env);
    const statuses = [];
    for (const s of [a, b, a, b, a, b]) statuses.push((await s.get(`/v1/customers/${DEMO.manyTickets}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

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
