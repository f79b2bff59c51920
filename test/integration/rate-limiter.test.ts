import { Logger } from '@nestjs/common';
import { createClient } from '@redis/client';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { InboundThrottleStorage } from '../../src/auth/inbound-throttle.js';
import { createRedis, type Redis } from '../../src/cache/redis.provider.js';
import { SharedRateLimiter } from '../../src/resilience/shared-rate-limiter.js';
import { RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  Logger.overrideLogger(false); // the clients' "redis unavailable" lines when a test kills Redis (the test reads them itself)
  redis = await RedisServer.start();
});
afterAll(async () => {
  for (const c of clients) if (c.isOpen) c.destroy();
  await redis.stop();
});
// each test counts from zero (the tests share fixed instants, hence window keys), with Redis up
beforeEach(async () => {
  await redis.flush();
});

async function connected(): Promise<Redis> {
  const client = createRedis(redis.url, new Logger('test'));
  clients.push(client);
  if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return client;
}

/** Half a minute into an aligned minute, so one test never straddles two windows. */
const MID_WINDOW = Date.UTC(2026, 10, 23, 12, 0, 30);

function limiter(client: Redis, points: number, options: { durationSec?: number; now?: () => number } = {}): SharedRateLimiter {
  return new SharedRateLimiter({ source: 'salesforce', points, durationSec: options.durationSec ?? 60, redis: client, keyPrefix: 'c360test', expectedReplicas: 3, maxWaitMs: 0, opTimeoutMs: 200, maxQueue: 10, now: options.now ?? (() => MID_WINDOW) });
}

async function granted(l: SharedRateLimiter, attempts: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < attempts; i++) {
    try {
      await l.acquire();
      ok++;
    } catch (err) {
      expect(err).toMatchObject({ kind: 'rate_limited' });
    }
  }
  return ok;
}

describe('shared outbound rate limit', () => {
  it('is one budget for all replicas while Redis is up', async () => {
    const [a, b] = [limiter(await connected(), 6), limiter(await connected(), 6)];
    expect((await granted(a, 4)) + (await granted(b, 4))).toBe(6);
    const probe = createClient({ url: redis.url });
    await probe.connect();
    expect(await probe.keys('c360test:rl*')).toEqual([`c360test:rl:v3:{salesforce}:${Math.floor(MID_WINDOW / 60_000)}`]); // the count really lives in Redis
    await probe.close();
  });

  it('counts in windows aligned to the clock, as the vendors do: a new second is a new budget, never a sliding one', async () => {
    let now = Date.UTC(2026, 10, 23, 12, 0, 0) + 600; // 0.6 s into a second
    const [a, b] = [limiter(await connected(), 2, { durationSec: 1, now: () => now }), limiter(await connected(), 2, { durationSec: 1, now: () => now })];
    expect((await granted(a, 2)) + (await granted(b, 2))).toBe(2);
    now += 99; // still the same aligned second
    expect(await granted(b, 1)).toBe(0);
    now += 301; // the next second starts: a fresh budget at once, although its first call was only 400 ms ago
    expect((await granted(a, 2)) + (await granted(b, 2))).toBe(2);
  });

  it('counts a call made in the last 250 ms of a second against the next second too, without making it wait', async () => {
    let now = Date.UTC(2026, 10, 23, 12, 0, 5) + 800;
    const l = limiter(await connected(), 3, { durationSec: 1, now: () => now });
    expect(await granted(l, 1)).toBe(1); // granted at once, charged to this second and the next
    // the next second's count was created 200 ms early: it must still live until that second ends
    const probe = createClient({ url: redis.url });
    await probe.connect();
    const nextWindow = Math.floor(now / 1000) + 1;
    expect(await probe.pTTL(`c360test:rl:v3:{salesforce}:${nextWindow}`)).toBeGreaterThan(1200);
    await probe.close();
    now += 200; // the next second: it may have landed here, so only 2 are left
    expect(await granted(l, 3)).toBe(2);
  });

  it('falls back to limit ÷ expected replicas per process when Redis is down, and says so', async () => {
    const client = await connected();
    const l = limiter(client, 9);
    const warnings: unknown[] = [];
    const original = Logger.prototype.warn;
    Logger.prototype.warn = function (message: unknown) {
      warnings.push(message);
    };
    try {
      await redis.kill();
      expect(await granted(l, 6)).toBe(3);
    } finally {
      Logger.prototype.warn = original;
      await redis.resume();
    }
    expect(JSON.stringify(warnings)).toContain("using this process's share");
  });

  it('finishes a window it fell back in on its own share, even once Redis is back (a promoted replica may lack the last counts), then leaves the others\' shares for two windows', async () => {
    let now = MID_WINDOW;
    const client = await connected();
    const l = limiter(client, 9, { now: () => now }); // share: 3
    await redis.kill();
    expect(await granted(l, 1)).toBe(1); // locally
    await redis.resume();
    if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    expect(await granted(l, 5)).toBe(2); // the rest of its share, not Redis's 9
    now += 60_000; // the next window: shared through Redis again, leaving the others' shares (3 each) to those not back yet
    expect(await granted(l, 10)).toBe(3);
    now += 60_000; // and the window after
    expect(await granted(l, 10)).toBe(3);
    now += 60_000; // then the whole limit
    expect(await granted(l, 10)).toBe(9);
  });

  it('falls back to what is left of its share: calls Redis granted in the window count against it', async () => {
    const l = limiter(await connected(), 9); // share: 3
    expect(await granted(l, 2)).toBe(2); // through Redis
    try {
      await redis.kill();
      expect(await granted(l, 5)).toBe(1);
    } finally {
      await redis.resume();
    }
  });
});

describe('paced reservations: the script in Redis and the rule in the process agree', () => {
  it('model: for any run of look-ups (slots wanted, wait allowed, time between), Redis and a process alone give the same waits and refusals', async () => {
    const client = await connected();
    let run = 0;
    const ask = fc.record({ after: fc.integer({ min: 0, max: 400 }), count: fc.integer({ min: 1, max: 3 }), maxWaitMs: fc.integer({ min: 0, max: 1_500 }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 999 }), fc.array(ask, { minLength: 1, maxLength: 25 }), async (points, burstPercent, start, asks) => {
        let now = Date.UTC(2026, 10, 23, 12, 0, 0) + start;
        const seen: Array<{ wait?: (ms: number) => void }> = [{}, {}];
        const make = (redisClient: Redis | null, i: number) =>
          new SharedRateLimiter({ source: 'salesforce', points, burstShare: burstPercent / 100, durationSec: 1, redis: redisClient, keyPrefix: `c360model${run}`, expectedReplicas: 1, maxWaitMs: 0, opTimeoutMs: 1_000, maxQueue: 1_000_000, onWait: (ms) => seen[i]!.wait?.(ms), now: () => now });
        run++;
        const [shared, alone] = [make(client, 0), make(null, 1)];
        // A wait is the outcome: the call is then cancelled before it sleeps, as the model's clock
        // does not move while it would sleep (left asleep, it would wake on the real clock after
        // the model's had moved past its window, give the slot up and reserve another, at a moment
        // that differs between the two limiters).
        const outcome = (l: SharedRateLimiter, i: number, count: number, maxWaitMs: number) => {
          const cancel = new AbortController();
          const waited = new Promise<number>((resolve) => (seen[i]!.wait = (ms) => {
            cancel.abort();
            resolve(ms);
          }));
          return Promise.race([l.acquire(cancel.signal, undefined, maxWaitMs, count).then(() => 0, () => 'refused'), waited]);
        };
        for (const { after, count, maxWaitMs } of asks) {
          now += after;
          expect(await outcome(shared, 0, count, maxWaitMs)).toEqual(await outcome(alone, 1, count, maxWaitMs));
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('shared inbound throttle (counted in each process, synced through Redis)', () => {
  const TEN_S = 10_000;
  const storage = (client: Redis, clock: { now: number }) => new InboundThrottleStorage({ redis: client, keyPrefix: 'c360test', syncIntervalMs: 3_600_000, opTimeoutMs: 500, now: () => clock.now });
  const allowed = (s: InboundThrottleStorage, n: number, limit: number) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (!s.hit('client', TEN_S, limit, TEN_S, 'default').isBlocked) ok++;
    return ok;
  };

  it('adds each replica\'s hits to one count per window, which expires with its window', async () => {
    const clock = { now: MID_WINDOW + 2_000 }; // 8 s before the 10 s window ends
    const [a, b] = [storage(await connected(), clock), storage(await connected(), clock)];
    expect(allowed(a, 3, 5) + allowed(b, 1, 5)).toBe(4);
    for (const s of [a, b, a]) await s.sync();
    expect(allowed(b, 3, 5)).toBe(1); // b has heard of a's 3: one left of 5
    const probe = createClient({ url: redis.url });
    await probe.connect();
    const keys = await probe.keys('c360test:throttle:*');
    expect(keys).toHaveLength(1);
    expect(await probe.get(keys[0])).toBe('4'); // b's last hit is not synced yet
    const ttl = await probe.pTTL(keys[0]);
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(9_000); // the window's rest plus a second's grace
    await probe.close();
  });

  it('keeps counting while Redis is down, and adds what it counted once Redis is back', async () => {
    const clock = { now: MID_WINDOW };
    const client = await connected();
    const s = storage(client, clock);
    try {
      await redis.kill();
      expect(allowed(s, 3, 10)).toBe(3);
      await s.sync(); // nothing to reach: the hits stay pending
    } finally {
      await redis.resume();
    }
    if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    await s.sync();
    const probe = createClient({ url: redis.url });
    await probe.connect();
    const [key] = await probe.keys('c360test:throttle:*');
    expect(await probe.get(key)).toBe('3');
    await probe.close();
  });
});
