/**
 * Cache invalidation while Redis is down or stalled (issue 14, finding 8): a billing write that
 * SAP accepted, or a change webhook, must neither hang nor fail obscurely when the cache cannot be
 * cleared. The answer is a bounded, clear 503 (for the billing write: "written to SAP"), the
 * failure is logged, and the invalidation is applied once Redis answers again.
 * Real redis-server processes (killed with SIGKILL, or frozen with SIGSTOP), real simulators.
 */
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { signatureHeader } from '../../src/auth/signature.js';
import { CacheKeys } from '../../src/cache/cache-keys.js';
import { REDIS, type Redis } from '../../src/cache/redis.provider.js';
import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import { RedisServer } from '../support/redis-server.js';
import { serviceSuite } from '../support/service-suite.js';
import type { TestService } from '../support/test-app.js';

const suite = serviceSuite();
let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
// one server for the file, stopped after the services (which close after each test) are gone
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  if (!redis.running) await redis.resume();
  const probe = createClient({ url: redis.url });
  await probe.connect();
  await probe.flushDb();
  await probe.close();
});
afterEach(() => {
  const pid = redis.pid;
  if (pid !== undefined) process.kill(pid, 'SIGCONT'); // never leave a frozen server behind
});

/** No request may hang: a call that is not answered within this bound fails the test. */
const ANSWER_BOUND_MS = 5_000;
const ID = DEMO.missingFromSalesforce; // its account name comes from SAP, so a billing rename shows

function service(): Promise<TestService> {
  return suite.service({ REDIS_URL: redis.url, CACHE_OP_TIMEOUT_MS: '100' });
}

async function patchBilling(s: TestService, billingName: string): Promise<{ status: number; body: { message?: string; correlationId?: string } }> {
  const res = await fetch(`${s.url}/v1/customers/${ID}/billing`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ billingName }), signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
  return { status: res.status, body: (await res.json()) as { message?: string } };
}

async function webhook(s: TestService): Promise<{ status: number; body: { message?: string } }> {
  const body = JSON.stringify({ customerId: ID, event: 'account.updated' });
  const res = await fetch(`${s.url}/v1/webhooks/sap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), body) },
    body,
    signal: AbortSignal.timeout(ANSWER_BOUND_MS),
  });
  return { status: res.status, body: (await res.json()) as { message?: string } };
}

async function ready(s: TestService): Promise<void> {
  const client = s.app.get<Redis>(REDIS);
  if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
}

/** Polls Redis (bounded) until `done` holds for the given key's existence. */
async function untilKey(key: string, exists: boolean): Promise<void> {
  const probe = createClient({ url: redis.url });
  await probe.connect();
  try {
    for (let i = 0; i < 200; i++) {
      if ((await probe.exists(key)) === (exists ? 1 : 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${key} did not become ${exists ? 'present' : 'absent'} within 5 s`);
  } finally {
    await probe.close();
  }
}

const keys = new CacheKeys('c360');
const sapPart = keys.part(ID, 'sap');
const invalidationMark = keys.generation(ID);

describe('billing write while Redis is down', () => {
  it('Redis killed: a clear 503 saying the change is in SAP, logged; the invalidation is applied once Redis is back', async () => {
    const s = await service();
    expect((await s.get(`/v1/customers/${ID}`)).body.accountName).toBe(demoCustomer(ID).name);
    await redis.kill();
    const res = await patchBilling(s, 'Renamed During Outage AG');
    expect(res.status).toBe(503);
    expect(res.body.message).toBe('The change was written to SAP, but the cached view could not be refreshed yet; it is refreshed automatically, reload shortly');
    expect(suite.sims.sap.requests('updateCustomer')).toHaveLength(1);
    expect(s.logs.some((line) => line.includes('cache invalidation deferred') && line.includes(String(res.body.correlationId ?? '')))).toBe(true);
    await redis.resume();
    await ready(s);
    await untilKey(invalidationMark, true); // the deferred invalidation ran against the new server
    expect((await s.get(`/v1/customers/${ID}`)).body.accountName).toBe('Renamed During Outage AG');
  });

  it('Redis frozen (SIGSTOP): no hanging, the same 503; once it thaws the old cached part is gone', async () => {
    const s = await service();
    expect((await s.get(`/v1/customers/${ID}`)).body.accountName).toBe(demoCustomer(ID).name);
    await untilKey(sapPart, true);
    process.kill(redis.pid as number, 'SIGSTOP');
    const res = await patchBilling(s, 'Renamed While Frozen AG');
    expect(res.status).toBe(503);
    expect(res.body.message).toContain('written to SAP');
    process.kill(redis.pid as number, 'SIGCONT');
    await untilKey(sapPart, false);
    await untilKey(invalidationMark, true);
    expect((await s.get(`/v1/customers/${ID}`)).body.accountName).toBe('Renamed While Frozen AG');
  });
});

describe('change webhook while Redis is down', () => {
  it('Redis killed: a bounded 503 the sender can retry on, and the invalidation is applied once Redis is back', async () => {
    const s = await service();
    await redis.kill();
    const res = await webhook(s);
    expect(res.status).toBe(503);
    expect(res.body.message).toBe('The change could not be applied to the cache yet; it is retried automatically');
    await redis.resume();
    await ready(s);
    await untilKey(invalidationMark, true);
  });

  it('Redis frozen (SIGSTOP): the webhook is answered within the bound, and the cached parts are gone after the thaw', async () => {
    const s = await service();
    await s.get(`/v1/customers/${ID}`);
    await untilKey(sapPart, true);
    process.kill(redis.pid as number, 'SIGSTOP');
    expect((await webhook(s)).status).toBe(503);
    process.kill(redis.pid as number, 'SIGCONT');
    await untilKey(sapPart, false);
  });
});
