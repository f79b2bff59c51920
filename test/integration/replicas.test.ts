import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, startSimulators, stopSimulators, type Simulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { spawnService, type ServiceProcess } from '../support/service-process.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';

let redis: RedisServer;
let sims: Simulators;
let replicas: ServiceProcess[] = [];

beforeAll(async () => {
  [redis, sims] = await Promise.all([RedisServer.start(), startSimulators()]);
  replicas = await Promise.all([1, 2, 3].map(() => spawnService(
        // Redis ops get 1 s here: on a saturated 2-core test machine a 100 ms bound can expire, and a
        // replica whose lock attempt times out proceeds without it (fail open, by design)
        sandboxEnv(sims, { REDIS_URL: redis.url, ...GENEROUS_LIMITS, ...OPEN_AUTH, RETRY_MAX_ATTEMPTS: '1', CACHE_OP_TIMEOUT_MS: '1000', AGGREGATION_DEADLINE_MS: '3000' }),
      ),));
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await stopSimulators(sims);
  await redis.stop();
});
beforeEach(() => resetSimulators(sims));

describe('three service processes sharing one Redis', () => {
  it('a stampede of 500 concurrent requests for one cold customer costs one call per CRM', async () => {
    sims.salesforce.setFaults({ latencyMs: 150 }); // keep the first call open while the others arrive
    sims.sap.setFaults({ latencyMs: 150 });
    sims.servicenow.setFaults({ latencyMs: 150 });
    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, i) => fetch(`${replicas[i % 3].url}/v1/customers/${DEMO.manyTickets}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { openTickets: number } }))),
    );
    expect(responses.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(responses.map((r) => r.body.openTickets))).toEqual(new Set([25]));
    expect(sims.salesforce.callCount('query')).toBe(1);
    expect(sims.salesforce.callCount('token')).toBe(1); // only the replica that made the call needed to log in
    expect(sims.sap.callCount('customer')).toBe(1);
    expect(sims.sap.callCount('openItems')).toBe(1);
    expect(sims.servicenow.callCount('table')).toBe(1);
    expect(sims.servicenow.callCount('stats')).toBe(1);
  });

  it('a failure on the replica that made the call is shared, not retried by every waiter', async () => {
    sims.sap.setFaults({ latencyMs: 150, forcedStatus: 503 });
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => fetch(`${replicas[i % 3].url}/v1/customers/${DEMO.decimalTrap}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { sources: Record<string, { status: string }> } }))));
    expect(responses.filter((r) => r.status !== 200)).toEqual([]);
    expect(responses.filter((r) => r.body.sources.sap.status !== 'unavailable').map((r) => r.body.sources.sap.status)).toEqual([]);
    expect(sims.sap.callCount('openItems')).toBe(1);
  });
});
