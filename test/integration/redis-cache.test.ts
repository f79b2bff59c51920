import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { AggregationService } from '../../src/aggregation/aggregation.service.js';
import { CacheKeys } from '../../src/cache/cache-keys.js';
import { REDIS, type Redis } from '../../src/cache/redis.provider.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { resetSimulators, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { startService, type TestService } from '../support/test-app.js';

let redis: RedisServer;
let sims: Simulators;
const services: TestService[] = [];

beforeAll(async () => {
  [redis, sims] = await Promise.all([RedisServer.start(), startSimulators()]);
});
afterAll(async () => {
  await stopSimulators(sims);
  await redis.stop();
});
beforeEach(async () => {
  resetSimulators(sims);
  await redis.flush();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function replica(): Promise<TestService> {
  const s = await startService({ sims, env: { REDIS_URL: redis.url } });
  services.push(s);
  return s;
}

const crmCalls = () => sims.salesforce.callCount() + sims.sap.callCount() + sims.servicenow.callCount();

describe('with REDIS_URL set', () => {
  it('shares cached profile parts between two instances under namespaced keys', async () => {
    const a = await replica();
    const b = await replica();
    expect((await a.get(`/v1/customers/${DEMO.healthy}`)).status).toBe(200);
    await a.app.get(AggregationService).whenIdle(); // answers do not wait for the cache write; this test does
    const fromB = await b.get(`/v1/customers/${DEMO.healthy}`);
    expect(fromB.status).toBe(200);
    expect(fromB.body.sources.sap.latencyMs).toBe(0);
    expect(sims.sap.callCount('openItems')).toBe(1);
    expect(sims.salesforce.callCount('query')).toBe(1);

    const probe = createClient({ url: redis.url });
    await probe.connect();
    // every key of a customer: its parts only (no generation: never invalidated; locks released)
    const keys = (await probe.keys('c360:{*')).sort();
    await probe.close();
    const names = new CacheKeys('c360');
    expect(keys).toEqual(['salesforce', 'sap', 'servicenow'].map((source) => names.part(DEMO.healthy, source)));
  });

  it('keeps answering from the CRMs while Redis is down, and caches again once it is back', async () => {
    const s = await replica();
    await redis.kill();
    const during = await Promise.all([DEMO.manyTickets, DEMO.decimalTrap].map((id) => s.get(`/v1/customers/${id}`)));
    expect(during.map((r) => r.status)).toEqual([200, 200]);
    expect(during.map((r) => r.body.sources.sap.status)).toEqual(['ok', 'ok']);
    await redis.resume();
    // node-redis reconnects by itself (an event, no polling); then caching resumes
    const client = s.app.get<Redis>(REDIS);
    if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const first = await s.get(`/v1/customers/${DEMO.missingFromSap}`);
    expect(Object.values(first.body.sources).map((x) => (x as { cache: string }).cache)).toEqual(['miss', 'miss', 'miss']);
    await s.app.get(AggregationService).whenIdle(); // answers do not wait for the cache write; this test does
    const calls = crmCalls();
    // the second look-up calls no CRM at all: SAP's "not found" is cached like the others' parts
    const second = await s.get(`/v1/customers/${DEMO.missingFromSap}`);
    expect(second.body.sources).toMatchObject({ salesforce: { status: 'ok', cache: 'hit' }, sap: { status: 'not_found', cache: 'hit' }, servicenow: { status: 'ok', cache: 'hit' } });
    expect(crmCalls()).toBe(calls);
  });
});
