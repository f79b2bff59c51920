import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { signatureHeader } from '../../src/auth/signature.js';
import { CacheKeys } from '../../src/cache/cache-keys.js';
import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO, DEMO_CUSTOMERS } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess,spawnService } from '../support/service-process.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';

let redis: RedisServer;
let sims: Simulators;
let replicas: ServiceProcess[] = [];
/** Salesforce's budget for all three replicas together (the others are generous here). */
const SALESFORCE_LIMIT = 5;
/** /metrics on the public port needs it. */
const METRICS_TOKEN = 'test-metrics-scrape-token-0123456789';

beforeAll(async () => {
  [redis, sims] = await Promise.all([RedisServer.start(), startSimulators()]);
});
afterAll(async () => {
  await stopSimulators(sims);
  await redis.stop();
});
// each test gets three new processes, an empty Redis and fresh simulators: no token, breaker,
// cached part or rate-limit count left by another test
beforeEach(async () => {
  resetSimulators(sims);
  await redis.flush();
  replicas = await Promise.all([1, 2, 3].map(() => spawnService(
        // Redis ops get 1 s here: on a saturated 2-core test machine a 100 ms bound can expire, and a
        // replica whose lock attempt times out proceeds without it (fail open, by design)
        sandboxEnv(sims, { REDIS_URL: redis.url, METRICS_TOKEN, ...GENEROUS_LIMITS, ...OPEN_AUTH, SALESFORCE_RATE_LIMIT_PER_SEC: String(SALESFORCE_LIMIT), SALESFORCE_BATCH_MAX_CUSTOMERS: '1', RETRY_MAX_ATTEMPTS: '1', CACHE_OP_TIMEOUT_MS: '1000', AGGREGATION_DEADLINE_MS: '3000', SAP_TIMEOUT_MS: '2500' }),
      ),));
});
afterEach(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  replicas = [];
});

/**
 * Resolves once replica `r` has applied `count` invalidations announced by another replica: the
 * announcement travels over each replica's own Redis connection, so it can still be in flight
 * when the replica that took the change has answered (README: coherence).
 */
async function whenHeard(r: ServiceProcess, count: number): Promise<void> {
  await vi.waitFor(async () => {
    const text = await (await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(text).toContain(`c360_near_cache_invalidations_total{cause="invalidation",origin="replica"} ${count}`);
  });
}

/**
 * Resolves once the replica calling a source for `customerId` has stored its answer and released
 * its lock, for `sources` sources: the "landed" messages the replicas themselves wait for. An answer
 * does not wait for its cache write, so a test that expects the next read to hit waits for these.
 */
async function whenLanded(customerId: string, sources: number): Promise<{ landed: Promise<void> }> {
  const subscriber = createClient({ url: redis.url });
  await subscriber.connect();
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  await subscriber.pSubscribe(new CacheKeys('c360').landed(customerId, '*'), () => {
    if (++seen === sources) done();
  });
  return { landed: all.finally(() => subscriber.close()) };
}

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
    expect(sims.salesforce.callCount('token')).toBe(3); // each replica logged in at start-up; the stampede asked for no token
    expect(sims.sap.callCount('customer')).toBe(1);
    expect(sims.sap.callCount('openItems')).toBe(1);
    expect(sims.servicenow.callCount('table')).toBe(1);
    expect(sims.servicenow.callCount('stats')).toBe(1);
  });

  it('a failure on the replica that made the call is shared, not retried by every waiter', async () => {
    // warm processes (logged in, JIT-compiled), and a SAP answer slow enough that all 60 requests are
    // waiting before it fails: a request arriving after the failure rightly calls again (failures are not cached)
    await Promise.all(replicas.map((r) => fetch(`${r.url}/v1/customers/${DEMO.healthy}`).then((res) => res.arrayBuffer())));
    sims.sap.resetCalls();
    sims.sap.setFaults({ latencyMs: 1000, forcedStatus: 503 });
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => fetch(`${replicas[i % 3].url}/v1/customers/${DEMO.decimalTrap}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { sources: Record<string, { status: string }> } }))));
    expect(responses.filter((r) => r.status !== 200)).toEqual([]);
    expect(responses.filter((r) => r.body.sources.sap.status !== 'unavailable').map((r) => r.body.sources.sap.status)).toEqual([]);
    expect(sims.sap.callCount('openItems')).toBe(1);
  });

  it('behave as one: a shared cache, an invalidation seen by all, and one Salesforce budget for the three', async () => {
    type Answer = { status: number; body: { sources: Record<string, { status: string; cache?: string }> } };
    const get = (r: ServiceProcess, id: string): Promise<Answer> => fetch(`${r.url}/v1/customers/${id}`).then(async (res) => ({ status: res.status, body: (await res.json()) as Answer['body'] }));
    const id = DEMO_CUSTOMERS[30].customerId;

    // cache sharing: what one replica fetched, the others serve without calling
    const { landed } = await whenLanded(id, 3);
    expect((await get(replicas[0], id)).body.sources.salesforce.cache).toBe('miss');
    await landed;
    const perProfile = sims.salesforce.callCount('query');
    for (const r of [replicas[1], replicas[2]]) {
      const warm = await get(r, id);
      expect(Object.values(warm.body.sources).map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    }
    expect(sims.salesforce.callCount('query')).toBe(perProfile);

    // invalidation: a change notification on one replica is seen by another at its next read
    const body = JSON.stringify({ customerId: id, event: 'account.updated' });
    const notified = await fetch(`${replicas[1].url}/v1/webhooks/salesforce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), body) },
      body,
    });
    expect(notified.status).toBe(202);
    await whenHeard(replicas[2], 1);
    expect((await get(replicas[2], id)).body.sources.salesforce.cache).toBe('miss');
    expect(sims.salesforce.callCount('query')).toBeGreaterThan(perProfile); // called again, not served from the dropped copy

    // one budget: 60 distinct customers at once across the three never push Salesforce past its limit
    // (each customer its own call here, SALESFORCE_BATCH_MAX_CUSTOMERS=1: batched, 60 fit the budget)
    sims.salesforce.resetCalls();
    const answers = await Promise.all(DEMO_CUSTOMERS.map((c, i) => get(replicas[i % 3], c.customerId)));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const perSecond = new Map<number, number>();
    for (const r of sims.salesforce.requests('query')) perSecond.set(Math.floor(r.at / 1000), (perSecond.get(Math.floor(r.at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(SALESFORCE_LIMIT);
    // over budget is a marked source in a 200, never an error; within it, what Salesforce says
    // (the customer missing from Salesforce is not_found when its call gets a slot)
    const statuses = answers.map((a) => a.body.sources.salesforce.status);
    expect(statuses).toEqual(statuses.map((st, i) => (st === 'rate_limited' ? st : DEMO_CUSTOMERS[i].presentIn.salesforce ? 'ok' : 'not_found')));
    expect(statuses.filter((st) => st === 'rate_limited').length, 'the budget was reached').toBeGreaterThan(0);
    expect(statuses.filter((st) => st !== 'rate_limited').length, 'calls within the budget were answered').toBeGreaterThan(0);
  });

  describe('near caches kept coherent over Redis pub/sub', () => {
    type View = { status: number; body: { accountName: string | null; loyaltyTier: string | null; sources: Record<string, { status: string; cache?: string }> } };
    const view = (r: ServiceProcess, id: string): Promise<View> => fetch(`${r.url}/v1/customers/${id}`).then(async (res) => ({ status: res.status, body: (await res.json()) as View['body'] }));
    /** Every replica has read the customer's parts (from a call, or from Redis) and keeps them. */
    async function warmEverywhere(id: string): Promise<void> {
      const { landed } = await whenLanded(id, 3);
      expect((await view(replicas[0], id)).status).toBe(200);
      await landed;
      for (const r of replicas.slice(1)) expect(Object.values((await view(r, id)).body.sources).map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    }

    it('a billing write on replica 0 is what the others serve next, not the copy they keep', async () => {
      const id = DEMO.missingFromSalesforce; // its name comes from SAP
      await warmEverywhere(id);
      const before = (await view(replicas[1], id)).body.accountName;
      const written = await fetch(`${replicas[0].url}/v1/customers/${id}/billing`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ billingName: 'Coherent Billing Co' }) });
      expect(written.status).toBe(200);
      expect(((await written.json()) as View['body']).accountName).toBe('Coherent Billing Co');
      expect(before).not.toBe('Coherent Billing Co');
      await Promise.all(replicas.slice(1).map((r) => whenHeard(r, 1)));
      for (const r of replicas.slice(1)) expect((await view(r, id)).body.accountName).toBe('Coherent Billing Co');
    });

    it('a webhook on replica 1 after a Salesforce edit: replica 0 serves the new tier', async () => {
      const id = DEMO.healthy;
      await warmEverywhere(id);
      const old = (await view(replicas[0], id)).body.loyaltyTier;
      const tier = old === 'Platinum' ? 'Bronze' : 'Platinum';
      sims.salesforce.updateAccount(id, { Loyalty_Tier__c: tier });
      // without a change notification the kept copy stands until it is no longer fresh (by design)
      const kept = await view(replicas[0], id);
      expect([kept.body.loyaltyTier, kept.body.sources.salesforce.cache]).toEqual([old, 'hit']);
      const body = JSON.stringify({ customerId: id, event: 'account.updated' });
      const notified = await fetch(`${replicas[1].url}/v1/webhooks/salesforce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), body) },
        body,
      });
      expect(notified.status).toBe(202);
      await Promise.all([replicas[0], replicas[2]].map((r) => whenHeard(r, 1)));
      for (const r of [replicas[0], replicas[2]]) expect((await view(r, id)).body.loyaltyTier).toBe(tier);
    });
  });
});
