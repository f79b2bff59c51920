import 'reflect-metadata';

import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { SkipThrottle, Throttle, ThrottlerGuard, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';

import type { Redis } from '../cache/redis.provider.js';
import { InboundThrottleGuard, InboundThrottleStorage, throttleKey } from './inbound-throttle.js';

/** Redis as far as the throttle uses it: the sync script's INCRBY-or-GET over an in-memory map. */
class SharedCounts {
  readonly counts = new Map<string, number>();
  isReady = true;
  calls = 0;
  fail = false;

  asRedis(): Redis {
    const counts = this.counts;
    const self = this; // eslint-disable-line @typescript-eslint/no-this-alias
    return {
      get isReady() {
        return self.isReady;
      },
      run(_script: unknown, { keys, arguments: args }: { keys: string[]; arguments: string[] }) {
        self.calls++;
        if (self.fail) return Promise.reject(new Error('connection lost'));
        const total = (counts.get(keys[0]) ?? 0) + Number(args[0]);
        counts.set(keys[0], total);
        return Promise.resolve(total);
      },
    } as unknown as Redis;
  }
}
let shared: SharedCounts;

const TEN_S = 10_000;
/** 3 s into an aligned 10 s window. */
const T0 = Date.UTC(2026, 10, 30, 9, 0, 3);

function storage(clock: { now: number }, redis?: Redis): InboundThrottleStorage {
  return new InboundThrottleStorage({ redis, keyPrefix: 'c360', syncIntervalMs: 3_600_000, opTimeoutMs: 200, now: () => clock.now });
}

/** Makes `n` hits; returns how many were allowed. */
function allowed(s: InboundThrottleStorage, n: number, limit: number, key = 'client-a', blockMs = TEN_S): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (!s.hit(key, TEN_S, limit, blockMs, 'default').isBlocked) ok++;
  return ok;
}

describe('inbound throttle storage', () => {
  it('counts each client on its own and answers without any Redis call', () => {
    shared = new SharedCounts();
    const clock = { now: T0 };
    const s = storage(clock, shared.asRedis());
    const first = s.hit('client-a', TEN_S, 3, TEN_S, 'default');
    expect(first).toEqual({ totalHits: 1, timeToExpire: 7, isBlocked: false, timeToBlockExpire: 0 });
    expect(allowed(s, 4, 3)).toBe(2);
    expect(allowed(s, 3, 3, 'client-b')).toBe(3);
    expect(shared.calls).toBe(0);
  });

  it('refuses past the limit for the block duration, with the seconds left to wait', () => {
    const clock = { now: T0 };
    const s = storage(clock);
    expect(allowed(s, 2, 2)).toBe(2);
    const refused = s.hit('client-a', TEN_S, 2, 4_000, 'default');
    expect(refused).toMatchObject({ isBlocked: true, totalHits: 3, timeToBlockExpire: 4 });
    clock.now += 3_999;
    expect(s.hit('client-a', TEN_S, 2, 4_000, 'default').isBlocked).toBe(true);
    clock.now += 1; // the block is over, but the window (ends at T0 + 7 s) is still spent
    expect(s.hit('client-a', TEN_S, 2, 4_000, 'default').isBlocked).toBe(true);
  });

  it('counts in windows aligned to the clock: a new window is a new budget, however recent the last hit', () => {
    const clock = { now: T0 + 6_900 }; // 100 ms before the window ends
    const s = storage(clock);
    expect(allowed(s, 3, 2, 'client-a', 0)).toBe(2); // the third is refused until the window ends (no block duration: the window)
    expect(s.hit('client-a', TEN_S, 2, 0, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    clock.now += 100;
    expect(s.hit('client-a', TEN_S, 2, 0, 'default')).toEqual({ totalHits: 1, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('shares one budget between replicas once they have synced', async () => {
    shared = new SharedCounts();
    const clock = { now: T0 };
    const [a, b] = [storage(clock, shared.asRedis()), storage(clock, shared.asRedis())];
    expect(allowed(a, 3, 5)).toBe(3);
    expect(allowed(b, 1, 5)).toBe(1);
    await a.sync();
    await b.sync(); // b now knows a's 3
    await a.sync(); // and a knows b's 1
    expect(shared.counts.get([...shared.counts.keys()][0])).toBe(4);
    expect(a.hit('client-a', TEN_S, 5, TEN_S, 'default')).toMatchObject({ totalHits: 5, isBlocked: false });
    expect(b.hit('client-a', TEN_S, 5, TEN_S, 'default')).toMatchObject({ totalHits: 5, isBlocked: false }); // b has not heard of a's fifth yet: the bound
    await a.sync();
    await b.sync();
    expect(b.hit('client-a', TEN_S, 5, TEN_S, 'default')).toMatchObject({ totalHits: 7, isBlocked: true });
  });

  it('keeps counting alone while Redis is away, and adds the hits to the shared count when it returns', async () => {
    shared = new SharedCounts();
    const clock = { now: T0 };
    const s = storage(clock, shared.asRedis());
    shared.isReady = false;
    expect(allowed(s, 2, 10)).toBe(2);
    await s.sync();
    expect(shared.calls).toBe(0);
    shared.isReady = true;
    shared.fail = true; // a call that fails is sent again next time
    await s.sync();
    shared.fail = false;
    await s.sync();
    expect([...shared.counts.values()]).toEqual([2]);
  });

  it('forgets a client once its window has ended', async () => {
    shared = new SharedCounts();
    const clock = { now: T0 };
    const s = storage(clock, shared.asRedis());
    allowed(s, 1, 10);
    allowed(s, 1, 10, 'client-b');
    expect(s.size).toBe(2);
    clock.now += 7_000;
    await s.sync();
    expect(s.size).toBe(0);
  });

  it('keys the count by client and throttler alone, hashed (no address in Redis)', () => {
    const key = throttleKey(undefined, '198.51.100.7', 'default');
    expect(key).toBe(throttleKey(undefined, '198.51.100.7', 'default'));
    expect(key).not.toContain('198.51');
    expect(key).not.toBe(throttleKey(undefined, '198.51.100.8', 'default'));
    expect(key).not.toBe(throttleKey(undefined, '198.51.100.7', 'burst'));
  });
});

describe('inbound throttle guard', () => {
  // the library's decorators, on a controller of our own
  @SkipThrottle()
  class Quiet {
    open(): void {}
    @SkipThrottle({ default: false })
    counted(): void {}
  }
  class Api {
    plain(): void {}
    @Throttle({ default: { limit: 2, ttl: TEN_S } })
    strict(): void {}
    @Throttle({ default: { limit: () => 1, ttl: TEN_S } })
    computed(): void {}
    @SkipThrottle()
    health(): void {}
  }

  const clock = { now: T0 };
  const options = (storage: InboundThrottleStorage): ThrottlerModuleOptions => ({
    throttlers: [{ ttl: TEN_S, limit: 3 }, { name: 'burst', ttl: 1_000, limit: 5 }],
    getTracker: (req: Record<string, unknown>) => String(req.ip),
    generateKey: throttleKey,
    storage,
  });
  async function guards() {
    const [mine, libraries] = [storage(clock), storage(clock)];
    const guard = new InboundThrottleGuard(options(mine), mine, new Reflector());
    const theirs = new ThrottlerGuard(options(libraries), libraries, new Reflector());
    await Promise.all([guard.onModuleInit(), theirs.onModuleInit()]);
    return { guard, theirs };
  }
  function call(g: ThrottlerGuard, cls: new () => object, method: string, ip = '198.51.100.7') {
    const headers: Record<string, unknown> = {};
    const res = { header: (name: string, value: unknown) => ((headers[name] = value), res) };
    const context = new ExecutionContextHost([{ ip }, res, () => undefined], cls as never, (cls.prototype as Record<string, () => void>)[method]);
    context.setType('http');
    return { result: (g as InboundThrottleGuard).canActivate(context), headers };
  }
  async function outcome(g: ThrottlerGuard, cls: new () => object, method: string, ip?: string) {
    const { result, headers } = call(g, cls, method, ip);
    try {
      return { allowed: await result, headers };
    } catch (err) {
      return { refused: (err as Error).constructor.name, status: (err as { getStatus(): number }).getStatus(), headers };
    }
  }

  it('answers a fixed route at once (no promise), with the rate-limit headers', async () => {
    const { guard } = await guards();
    const { result, headers } = call(guard, Api, 'plain');
    expect(result).toBe(true);
    expect(headers).toEqual({ 'X-RateLimit-Limit': 3, 'X-RateLimit-Remaining': 2, 'X-RateLimit-Reset': 7, 'X-RateLimit-Limit-burst': 5, 'X-RateLimit-Remaining-burst': 4, 'X-RateLimit-Reset-burst': 1 });
  });

  it("decides exactly as the library's guard: limits, named throttlers, @Throttle, @SkipThrottle on class and method, computed limits", async () => {
    const { guard, theirs } = await guards();
    const script: Array<[new () => object, string, string?]> = [
      [Api, 'plain'], [Api, 'strict'], [Api, 'strict'], [Api, 'strict'], [Api, 'health'], [Quiet, 'open'], [Quiet, 'counted'],
      [Api, 'computed', '203.0.113.9'], [Api, 'computed', '203.0.113.9'], [Api, 'plain'], [Api, 'plain'], [Api, 'plain', '203.0.113.1'],
    ];
    for (const [cls, method, ip] of script) {
      const [mine, library] = [await outcome(guard, cls, method, ip), await outcome(theirs, cls, method, ip)];
      expect(mine, `${cls.name}.${method}`).toEqual(library);
    }
    // the burst throttler (5 per second) refused first, and says when to come back
    expect(await outcome(guard, Api, 'plain')).toEqual({ refused: 'ThrottlerException', status: 429, headers: { 'Retry-After-burst': 1 } });
    clock.now += 1_000; // a new second: now the 10 s budget of 3 refuses, blocked since its fourth hit a second ago
    expect(await outcome(guard, Api, 'plain')).toMatchObject({ refused: 'ThrottlerException', status: 429, headers: { 'Retry-After': 9 } });
  });
});
