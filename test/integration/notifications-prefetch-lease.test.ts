import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotificationMetrics } from '../../src/genesys/notifications/notifications.metrics.js';
import { NotificationsService } from '../../src/genesys/notifications/notifications.service.js';
import { Prefetcher } from '../../src/genesys/notifications/prefetcher.js';
import { SANDBOX_QUEUE } from '../sandbox/genesys/genesys.data.js';
import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import { RedisServer } from '../support/redis-server.js';
import { serviceSuite } from '../support/service-suite.js';
import type { TestService } from '../support/test-app.js';

/**
 * Two services sharing one Redis (two replicas, here in one process): one holds the subscription
 * lease and follows the queues, the other stands by; the lease moves when the holder shuts down,
 * and nobody follows while Redis cannot confirm it. (A holder killed outright: the processes test
 * notifications-prefetch-takeover.test.ts.)
 */
const suite = serviceSuite();
let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  if (!redis.running) await redis.resume();
  await redis.flush();
});

const LEASE_TTL_MS = 5000;
const env = () => ({
  REDIS_URL: redis.url,
  GENESYS_NOTIFICATIONS_ENABLED: 'true',
  GENESYS_NOTIFICATIONS_LEASE_TTL_MS: String(LEASE_TTL_MS),
  GENESYS_NOTIFICATIONS_LEASE_RENEW_MS: '200',
  PREFETCH_RETRY_MS: '100',
});

interface Replica {
  s: TestService;
  notifications: NotificationsService;
  prefetcher: Prefetcher;
  metrics: NotificationMetrics;
}

async function replica(extra: Record<string, string> = {}): Promise<Replica> {
  const s = await suite.service({ ...env(), ...extra });
  return { s, notifications: s.app.get(NotificationsService), prefetcher: s.app.get(Prefetcher), metrics: s.app.get(NotificationMetrics) };
}

/** Both started; resolves with [holder, standby] once one follows the queues. */
async function pair(extra: Record<string, string> = {}): Promise<[Replica, Replica]> {
  const [a, b] = await Promise.all([replica(extra), replica(extra)]);
  const holder = await Promise.race([a.notifications.whenLive().then(() => a), b.notifications.whenLive().then(() => b)]);
  return holder === a ? [a, b] : [b, a];
}

async function value(c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await c.get()).values.reduce((n, v) => n + v.value, 0);
}

const caller = demoCustomer(DEMO.healthy);

describe('one replica holds the subscription (Redis lease)', () => {
  it('only the holder subscribes and pre-fetches; the other stands by', async () => {
    const [holder, standby] = await pair();
    expect(holder.notifications.status()).toMatchObject({ holder: true, channels: 1, connected: 1 });
    expect(standby.notifications.status()).toEqual({ holder: false, channels: 0, connected: 0, topics: 0 });
    expect(suite.sims.genesys.notifications.stats()).toMatchObject({ channels: 1, connected: 1 });
    const id = suite.sims.genesys.placeInboundCall({ ani: `tel:${caller.phone}`, queueId: SANDBOX_QUEUE.customerCare });
    expect((await holder.prefetcher.whenSettled(id, (s) => s.outcome === 'ready')).customerId).toBe(caller.customerId);
    expect(await value(holder.metrics.leaseHeld)).toBe(1);
    expect(await value(standby.metrics.leaseHeld)).toBe(0);
    expect(await value(standby.metrics.prefetches)).toBe(0);
    // the mapping is in Redis: the standby's side panel finds the caller without Genesys
    const res = await standby.s.get(`/v1/conversations/${id}/customer`);
    expect(res.status).toBe(200);
    expect(res.body.customerId).toBe(caller.customerId);
    expect(suite.sims.genesys.callCount('conversation')).toBe(0);
    expect(await value(standby.metrics.panelHits)).toBe(1);
  });

  it('a holder that shuts down releases the lease: the standby takes over long before the lease would have expired, and reports the gap', async () => {
    const [holder, standby] = await pair();
    const gap = new Promise<{ ms: number }>((resolve) => standby.notifications.events.once('gap', resolve));
    const closedAt = Date.now();
    await holder.s.close();
    await standby.notifications.whenLive();
    const tookMs = Date.now() - closedAt;
    expect(tookMs).toBeLessThan(LEASE_TTL_MS);
    expect((await gap).ms).toBeGreaterThanOrEqual(0);
    expect(standby.notifications.status()).toMatchObject({ holder: true, connected: 1 });
    const id = suite.sims.genesys.placeInboundCall({ ani: `tel:${caller.phone}`, queueId: SANDBOX_QUEUE.billing });
    expect((await standby.prefetcher.whenSettled(id, (s) => s.outcome === 'ready')).customerId).toBe(caller.customerId);
  });

  it('while Redis cannot confirm the lease, the holder stops following the queues (no two holders); when Redis is back one replica follows again', async () => {
    const [holder, standby] = await pair({ GENESYS_NOTIFICATIONS_LEASE_TTL_MS: '1000' });
    const released = new Promise<string>((resolve) => holder.notifications.events.once('lease', resolve));
    await redis.kill();
    expect(await released).toBe('released');
    expect(holder.notifications.status()).toMatchObject({ holder: false, channels: 0 });
    expect(standby.notifications.status().holder).toBe(false);
    await redis.resume();
    await Promise.race([holder.notifications.whenLive(), standby.notifications.whenLive()]);
    expect([holder, standby].filter((r) => r.notifications.status().holder)).toHaveLength(1);
  });
});
