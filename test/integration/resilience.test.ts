import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { AggregationService } from '../../src/aggregation/aggregation.service.js';
import { DEMO, DEMO_CUSTOMERS } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess,spawnService } from '../support/service-process.js';
import { serviceSuite } from '../support/service-suite.js';
import { OPEN_AUTH } from '../support/test-app.js';

const suite = serviceSuite();
/** /metrics on the public port needs METRICS_TOKEN (the management port is not started in-process). */
const METRICS_TOKEN = 'test-metrics-scrape-token-0123456789';
const SCRAPE = { authorization: `Bearer ${METRICS_TOKEN}` };
const service = (env?: Record<string, string>) => suite.service({ METRICS_TOKEN, ...env });

describe('circuit breaker per CRM', () => {
  it('opens when SAP fails half its calls, stops calling it, serves stale, and closes after a good trial', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = await service({ BREAKER_MIN_CALLS: '4', BREAKER_OPEN_MS: '30000', RETRY_MAX_ATTEMPTS: '1', CACHE_FRESH_TTL_MS: '1000' });
    const known = DEMO.healthy;
    await s.get(`/v1/customers/${known}`); // cached while SAP is healthy
    vi.setSystemTime(Date.now() + 5_000); // now only stale
    suite.sims.sap.setFaults({ forcedStatus: 500 });
    for (const c of DEMO_CUSTOMERS.slice(10, 13)) await s.get(`/v1/customers/${c.customerId}`);
    const callsWhenOpen = suite.sims.sap.callCount();
    const ready = await s.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.sources).toMatchObject({ status: 'degraded', sap: 'open', salesforce: 'closed' });
    const metrics = (await s.get('/metrics', SCRAPE)).text;
    expect(metrics).toContain('c360_breaker_state{source="sap"} 2');
    expect(metrics).toContain('c360_breaker_state{source="salesforce"} 0');
    expect(metrics).toContain('c360_breaker_transitions_total{source="sap",to="open"} 1');

    const cold = await s.get(`/v1/customers/${DEMO_CUSTOMERS[20].customerId}`);
    expect(cold.status).toBe(200);
    expect(cold.body.sources.sap).toMatchObject({ status: 'unavailable', reason: 'circuit_open' });
    const warm = await s.get(`/v1/customers/${known}`);
    expect(warm.body.sources.sap).toMatchObject({ status: 'stale', reason: 'circuit_open' });
    expect(warm.body.balance).not.toBeNull();
    expect(suite.sims.sap.callCount()).toBe(callsWhenOpen); // nothing reached SAP while open

    suite.sims.sap.resetFaults();
    vi.setSystemTime(Date.now() + 30_001);
    const trial = await s.get(`/v1/customers/${DEMO_CUSTOMERS[21].customerId}`);
    expect(trial.body.sources.sap.status).toBe('ok');
    expect((await s.get('/health/ready')).body.details.sources).toMatchObject({ status: 'up', sap: 'closed' });
    expect((await s.get('/metrics', SCRAPE)).text).toContain('c360_breaker_transitions_total{source="sap",to="closed"} 1');
  });
});

describe('retries and Retry-After', () => {
  it('a 429 with Retry-After is not retried sooner, and no other call goes to that CRM meanwhile', async () => {
    const s = await service({ RETRY_MAX_ATTEMPTS: '3' });
    suite.sims.servicenow.setFaults({ rateLimitPerSecond: 0 });
    const first = await s.get(`/v1/customers/${DEMO.healthy}`);
    expect(first.body.sources.servicenow.status).toBe('rate_limited');
    // the company read and the count go out together, once each: neither is retried inside the Retry-After second
    expect(suite.sims.servicenow.requests().map((r) => r.route).sort()).toEqual(['stats', 'table']);
    const afterFirst = suite.sims.servicenow.callCount();
    const second = await s.get(`/v1/customers/${DEMO.manyTickets}`);
    expect(second.body.sources.servicenow).toMatchObject({ status: 'rate_limited' });
    expect(suite.sims.servicenow.callCount()).toBe(afterFirst);
  });

  it('retries a transient failure of a read and answers ok', async () => {
    const s = await service({ RETRY_MAX_ATTEMPTS: '3', RETRY_BASE_MS: '20' });
    suite.sims.salesforce.setFaults({ failNext: 1, only: ['query'] });
    const res = await s.get(`/v1/customers/${DEMO.healthy}`);
    expect(res.body.sources.salesforce.status).toBe('ok');
    expect(suite.sims.salesforce.callCount('query')).toBe(2);
  });
});

describe('timeouts', () => {
  it('cuts off a hung CRM at its timeout and frees the socket', async () => {
    const s = await service({ SAP_TIMEOUT_MS: '200', AGGREGATION_DEADLINE_MS: '500', AGGREGATION_LATE_COMPLETION_MS: '0', RETRY_MAX_ATTEMPTS: '1' });
    suite.sims.sap.setFaults({ latencyMs: 60_000 });
    const res = await s.get(`/v1/customers/${DEMO.healthy}`);
    expect(res.body.sources.sap).toMatchObject({ status: 'timeout', reason: 'timeout' });
    await s.app.get(AggregationService).whenIdle();
    await suite.sims.sap.whenConnectionsAtMost(0); // resolves only once SAP's side saw every socket close
    expect(suite.sims.sap.openConnections).toBe(0);
  });
});

describe('shared outbound rate limits across 3 processes', () => {
  let redis: RedisServer;
  let replicas: ServiceProcess[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
    replicas = await Promise.all(
      [1, 2, 3].map(() => spawnService(sandboxEnv(suite.sims, { REDIS_URL: redis.url, CACHE_FRESH_TTL_MS: '0', CACHE_OP_TIMEOUT_MS: '1000', ...OPEN_AUTH }))),
    );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.stop();
  });

  function maxPerSecond(sim: Simulators[keyof Simulators], routes: string[]): number {
    const perSecond = new Map<number, number>();
    for (const r of sim.requests().filter((q) => routes.includes(q.route))) {
      const second = Math.floor(r.at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    return Math.max(0, ...perSecond.values());
  }

  it('a storm of distinct-customer requests never pushes a CRM past its limit, and clients get no 5xx', async () => {
    resetSimulators(suite.sims);
    const statuses: number[] = [];
    // ~2.5 s of traffic: 10 waves of 30 concurrent requests spread over the 3 replicas
    for (let wave = 0; wave < 10; wave++) {
      const batch = await Promise.all(
        Array.from({ length: 30 }, (_, i) => {
          const customer = DEMO_CUSTOMERS[(wave * 30 + i) % DEMO_CUSTOMERS.length].customerId;
          return fetch(`${replicas[i % 3].url}/v1/customers/${customer}`).then((r) => r.status);
        }),
      );
      statuses.push(...batch);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]); // every demo customer is known somewhere: a 200, degraded at worst
    // fixed one-second windows: at most twice the limit can fall in one calendar second (window edge)
    expect(maxPerSecond(suite.sims.salesforce, ['query'])).toBeLessThanOrEqual(2 * 5);
    expect(maxPerSecond(suite.sims.servicenow, ['table', 'stats'])).toBeLessThanOrEqual(2 * 10);
    expect(maxPerSecond(suite.sims.sap, ['customer', 'openItems'])).toBeLessThanOrEqual(2 * 20);
    expect(suite.sims.salesforce.calls().rateLimited + suite.sims.servicenow.calls().rateLimited).toBe(0); // we throttled ourselves first
  });
});
