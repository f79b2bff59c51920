import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../sandbox/shared/seed.js';
import { resetSimulators, startSimulators, stopSimulators, type Simulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { startService, type TestService } from '../support/test-app.js';

/** What must never appear in a response: hosts, ports, stack frames, library and runtime details. */
function leaks(text: string, redis: RedisServer, sims: Simulators): string[] {
  const found: string[] = [];
  const needles = ['127.0.0.1', 'localhost', `:${redis.port}`, ...Object.values(sims).map((s) => `:${s.port}`), process.version, 'node_modules', '/work/', 'ECONN', 'axios', 'AxiosError', 'Redis', 'redis', 'fastify', 'FST_', 'TypeError', 'ReferenceError', '    at ', 'stack', 'sandbox-', 'Bearer '];
  for (const needle of needles) if (text.includes(needle)) found.push(needle);
  return found;
}

let sims: Simulators;
let redis: RedisServer;
let s: TestService;

beforeAll(async () => {
  [sims, redis] = await Promise.all([startSimulators(), RedisServer.start()]);
  s = await startService({ sims, env: { REDIS_URL: redis.url, CACHE_FRESH_TTL_MS: '0', RETRY_MAX_ATTEMPTS: '1' } });
});
afterAll(async () => {
  await s.close();
  await stopSimulators(sims);
  await redis.stop();
});
beforeEach(async () => {
  resetSimulators(sims);
  if (!redis.running) await redis.resume();
});

const FAULTS: Array<[string, (sims: Simulators) => void]> = [
  ['every CRM answering 500', (x) => [x.salesforce, x.sap, x.servicenow].forEach((m) => m.setFaults({ forcedStatus: 500 }))],
  ['every CRM resetting connections', (x) => [x.salesforce, x.sap, x.servicenow].forEach((m) => m.setFaults({ resetRate: 1 }))],
  ['every CRM answering HTML instead of JSON', (x) => [x.salesforce, x.sap, x.servicenow].forEach((m) => m.setFaults({ malformed: 'invalid-json' }))],
  ['every CRM rate limiting', (x) => [x.salesforce, x.sap, x.servicenow].forEach((m) => m.setFaults({ rateLimitPerSecond: 0 }))],
  ['Salesforce rejecting the login', (x) => x.salesforce.setFaults({ forcedStatus: 401 })],
  ['Genesys down for click-to-dial', (x) => x.genesys.setFaults({ forcedStatus: 503 })],
];

const REQUESTS: Array<[string, (t: TestService) => Promise<{ status: number; text: string; body: unknown }>]> = [
  ['GET /v1/customers/:id', (t) => t.get(`/v1/customers/${DEMO.healthy}`)],
  ['GET /v1/customers?phone=', (t) => t.get('/v1/customers?phone=%2B14155550100')],
  ['POST custom action lookup', (t) => t.post('/genesys/v1/customer-lookup', { customerId: DEMO.manyTickets })],
  ['POST custom action click-to-dial', (t) => t.post('/genesys/v1/customer-lookup', { phone: '+14155550100', actionType: 'clickToDial' })],
  ['PATCH billing', async (t) => {
    const r = await t.app.inject({ method: 'PATCH', url: `/v1/customers/${DEMO.healthy}/billing`, payload: { paymentTerms: 'NT30' } });
    return { status: r.statusCode, text: r.body, body: r.json() as unknown };
  }],
];

describe('no response leaks internals, whatever fails', () => {
  for (const [fault, apply] of FAULTS) {
    it(`${fault}`, async () => {
      apply(sims);
      for (const [name, request] of REQUESTS) {
        const res = await request(s);
        expect(res.status, name).toBeLessThan(600);
        expect(leaks(res.text, redis, sims), `${name}: ${res.text.slice(0, 200)}`).toEqual([]);
        if (res.status >= 500) {
          const id = (res.body as { correlationId?: string }).correlationId;
          expect(id, name).toEqual(expect.any(String));
          expect(s.logs.some((line) => line.includes(id as string)), `${name}: log line for ${id}`).toBe(true);
        }
      }
    });
  }

  it('Redis killed: still no leak and no failure', async () => {
    // a fresh service: the sweep above has (rightly) opened every CRM's breaker in the shared one
    const fresh = await startService({ sims, env: { REDIS_URL: redis.url, CACHE_FRESH_TTL_MS: '0' } });
    await redis.kill();
    for (const [name, request] of REQUESTS.slice(0, 3)) {
      const res = await request(fresh);
      expect(res.status, `${name}: ${res.text.slice(0, 600)}`).toBe(200);
      expect(leaks(res.text, redis, sims), name).toEqual([]);
    }
    await fresh.close();
  });

  it('refuses prototype-pollution bodies with a 400, not a 500', async () => {
    const res = await s.post('/genesys/v1/customer-lookup', '{"customerId":"0010100001","__proto__":{"admin":true}}');
    expect(res.status).toBe(400);
    expect(leaks(res.text, redis, sims)).toEqual([]);
  });
});
