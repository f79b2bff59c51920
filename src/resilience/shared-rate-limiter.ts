import { Logger } from '@nestjs/common';

import type { Redis } from '../cache/redis.provider.js';
import { defineScript } from '../redis/redis.client.js';
import { taggedKey } from '../redis/redis-keys.js';
import { deadlineOf } from '../upstream/deadline.js';
import { dueAfterPendingIo, sleep } from '../upstream/timers.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import type { BackgroundWork } from './background.js';

/** Bumped when the rate-limit keys change meaning, so a new release never counts on old keys. */
export const RATE_LIMIT_KEY_VERSION = 'v2';

/**
 * Charges one call to every window in KEYS (the current one, and the next one near a boundary),
 * all or none: 0 when granted, else the position of the first window without room. A window has
 * room when, after this call, ARGV[3] slots (a reserve kept for live look-ups; 0 for them) are
 * still free in it. The keys share a hash tag, so the script touches one Cluster slot.
 */
const CHARGE = defineScript(`
local limit = tonumber(ARGV[1]) - tonumber(ARGV[3] or '0')
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= limit then return i end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 0`);

/** Marks every window in KEYS as spent (the system said "come back later"). One slot, like CHARGE. */
const SPEND = defineScript(`
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return #KEYS`);

class StoreTimeout extends Error {
  constructor() {
    super('rate-limit store timed out');
  }
}

/**
 * Rejects with StoreTimeout when `operation` has not settled within `ms`. An answer already in the
 * socket when the time runs out still counts (dueAfterPendingIo): on a busy process an overdue
 * timer runs before unread I/O, and calling that answer late would make the limiter fall back to
 * its share for a grant Redis had made, a call too many.
 */
function within<T>(operation: Promise<T>, ms: number): Promise<T> {
  let cancel: (() => void) | undefined;
  const late = new Promise<never>((_, reject) => {
    cancel = dueAfterPendingIo(ms, () => reject(new StoreTimeout()));
  });
  operation.catch(() => undefined);
  return Promise.race([operation, late]).finally(() => cancel?.());
}

/**
 * How many times CACHE_OP_TIMEOUT_MS a slow grant is awaited in all before this process falls back
 * to its share. The script may well have run (a busy machine reads the answer late, the moment a
 * burst arrives); a fall-back then would grant a call Redis has already counted, on top of the
 * others' — so a slow answer is given this long, a missing one (Redis not connected) none.
 */
const SLOW_ANSWER_PATIENCE = 4;

/** This process's own window counts: the limit without Redis, or its share while Redis is unavailable. */
class LocalWindows {
  private readonly counts = new Map<string, { used: number; expiresAt: number }>();

  /** As CHARGE: 0 when granted (every window charged), else the position (1-based) of the first window without room. */
  charge(keys: string[], limit: number, lifetimeMs: number, now: number, reserve = 0): number {
    for (const [key, entry] of this.counts) if (entry.expiresAt <= now) this.counts.delete(key);
    const full = keys.findIndex((key) => (this.counts.get(key)?.used ?? 0) >= limit - reserve);
    if (full >= 0) return full + 1;
    for (const key of keys) {
      const entry = this.counts.get(key);
      if (entry) entry.used++;
      else this.counts.set(key, { used: 1, expiresAt: now + lifetimeMs });
    }
    return 0;
  }

  /** Counts grants made elsewhere (by Redis) toward this process's own windows, without a check. */
  record(keys: string[], lifetimeMs: number, now: number): void {
    this.charge(keys, Number.POSITIVE_INFINITY, lifetimeMs, now);
  }

  spend(keys: string[], lifetimeMs: number, now: number): void {
    for (const key of keys) this.counts.set(key, { used: Number.MAX_SAFE_INTEGER, expiresAt: now + lifetimeMs });
  }
}

export interface RateLimitOptions {
  source: string;
  points: number;
  durationSec: number;
  redis: Redis | null;
  keyPrefix: string;
  expectedReplicas: number;
  maxWaitMs: number;
  opTimeoutMs: number;
  maxQueue: number;
  /** Metrics hooks. */
  /** Told of each wait for a slot, with its length in ms. */
  onWait?: (ms: number) => void;
  onRefuse?: () => void;
  onFallback?: () => void;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * One system's outbound budget, shared by every replica through Redis. Windows are aligned to
 * the clock (second N, minute N), as the vendors count, so no aligned second ever sees more than
 * the limit — a free-running window would let up to twice the rate through across its edge.
 * A call granted in the last 250 ms of a window counts against the next one too, since it may
 * land there (a busy process can take that long between the grant and the request leaving).
 * Each grant is one Lua script over the windows it charges, keys that share a hash tag (one
 * Cluster slot). When Redis is down or slow each process falls
 * back, loudly, to its share (limit ÷ expected replicas). A call waits briefly for a slot, never
 * past its deadline; otherwise it is refused as rate limited, which the aggregation turns into a
 * stale or `rate_limited` source rather than an error.
 */
export class SharedRateLimiter {
  private readonly logger = new Logger(`RateLimit:${this.options.source}`);
  private readonly local = new LocalWindows();
  /** Without Redis, the whole limit; with Redis, what this process may use alone while Redis is unavailable. */
  private readonly localLimit: number;
  private waiting = 0;
  private fallbackNoticed = false;
  private readonly windowMs: number;
  /** The end of each window in which a grant also counts against the next window (a quarter of it, at most 250 ms). */
  private readonly guardMs: number;
  /**
   * Each window has a key of its own; the key must outlive its window even when a call near the
   * end of the previous window created it early (its expiry counts from creation), or the count
   * would restart inside the window.
   */
  private readonly keyLifetimeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.windowMs = options.durationSec * 1000;
    this.guardMs = Math.min(250, this.windowMs / 4);
    this.keyLifetimeMs = this.windowMs * 2;
    this.now = options.now ?? Date.now;
    this.localLimit = options.redis ? Math.max(1, Math.floor(options.points / options.expectedReplicas)) : options.points;
  }

  /** Calls of this process waiting for a slot now. */
  get waiters(): number {
    return this.waiting;
  }

  /**
   * Waits for a slot within the budget (`maxWaitMs`, RATE_LIMIT_MAX_WAIT_MS unless said) and the
   * signal's deadline, or throws rate_limited. Background work only takes a spare slot (acquireSpare).
   */
  async acquire(signal?: AbortSignal, background?: BackgroundWork, maxWaitMs = this.options.maxWaitMs): Promise<void> {
    if (background) return this.acquireSpare(background.reserveFraction);
    const deadline = deadlineOf(signal);
    const waitUntil = Math.min(Date.now() + maxWaitMs, deadline ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const untilNext = await this.tryConsume();
      if (untilNext === 0) return;
      const wait = untilNext + Math.floor(Math.random() * 15);
      if (Date.now() + wait > waitUntil || this.waiting >= this.options.maxQueue) {
        this.options.onRefuse?.();
        throw new UpstreamError(this.options.source, 'rate_limited', 'outbound rate limit reached', undefined, untilNext);
      }
      this.options.onWait?.(wait);
      this.waiting++;
      const slept = await sleep(wait, signal).finally(() => this.waiting--);
      if (!slept) throw new UpstreamError(this.options.source, 'timeout', 'cancelled while waiting for a rate-limit slot');
    }
  }

  /**
   * A slot for background work: taken at once or not at all (never a wait), and only while
   * `reserveFraction` of the window's budget stays free for live look-ups after taking it (in a
   * window's last 250 ms, of the next window's too, as a call then may count against either).
   * One script looks and takes, so two replicas never both take the last spare slot.
   */
  private async acquireSpare(reserveFraction: number): Promise<void> {
    const now = this.now();
    const toBoundary = this.windowMs - (now % this.windowMs);
    const keys = toBoundary > this.guardMs ? [this.windowKey(now)] : [this.windowKey(now), this.windowKey(now + this.windowMs)];
    const full = await this.charge(keys, now, Math.floor(now / this.windowMs) + keys.length - 1, reserveFraction);
    // not counted as a refusal: that metric means live look-ups went short
    if (full !== 0) throw new UpstreamError(this.options.source, 'rate_limited', 'no spare budget for background work', undefined, toBoundary);
  }

  /**
   * 0 when a slot was taken, else the ms until a window with room opens. A call made in the last
   * 250 ms of a window may reach the system in its next second, so it is charged to both windows
   * at once: wherever it lands, that second's count includes it (no waiting, as a dead band would cost).
   */
  private async tryConsume(): Promise<number> {
    const now = this.now();
    const toBoundary = this.windowMs - (now % this.windowMs);
    const keys = toBoundary > this.guardMs ? [this.windowKey(now)] : [this.windowKey(now), this.windowKey(now + this.windowMs)];
    const full = await this.charge(keys, now, Math.floor(now / this.windowMs) + keys.length - 1);
    if (full === 0) return 0;
    // the next window opens at the boundary; when the next one is full already, the one after
    return full === 1 ? Math.max(1, toBoundary) : toBoundary + this.windowMs;
  }

  /**
   * Charges the windows in Redis, or locally when there is no Redis or it is unavailable or slow.
   * What Redis grants is also counted locally, so a process that falls back in the middle of a
   * window (Redis slow for a moment) only adds what is left of its share, not a whole share on top
   * of what it already had. A window charged locally is finished locally: when Redis comes back
   * (a failover: the new primary may not have the counts of the last moments), its grants in that
   * window would come on top of the shares already used.
   */
  private async charge(keys: string[], now: number, lastWindow: number, reserveFraction = 0): Promise<number> {
    const redis = this.options.redis;
    const reserveOf = (limit: number) => (reserveFraction > 0 ? Math.max(1, Math.ceil(limit * reserveFraction)) : 0);
    if (redis?.isReady && Math.floor(now / this.windowMs) > this.localThrough) {
      try {
        const args = [String(this.options.points), String(this.keyLifetimeMs), String(reserveOf(this.options.points))];
        const granting = redis.run(CHARGE, { keys, arguments: args });
        let full: number;
        try {
          full = Number(await within(granting, this.options.opTimeoutMs));
        } catch (err) {
          if (!(err instanceof StoreTimeout)) throw err;
          full = Number(await within(granting, this.options.opTimeoutMs * (SLOW_ANSWER_PATIENCE - 1)));
        }
        if (full === 0) this.local.record(keys, this.keyLifetimeMs, now);
        return full;
      } catch {
        /* counted locally below */
      }
    }
    if (!redis) return this.local.charge(keys, this.localLimit, this.keyLifetimeMs, now, reserveOf(this.localLimit));
    this.noticeFallback();
    this.localThrough = Math.max(this.localThrough, lastWindow);
    return this.local.charge(keys, this.localLimit, this.keyLifetimeMs, now, reserveOf(this.localLimit));
  }

  /** The last window this process counts on its own share (it fell back to it in that window or the one before). */
  private localThrough = Number.NEGATIVE_INFINITY;

  /** The system said "come back in ms": no replica calls it before then (every window until then is spent). */
  async pause(ms: number): Promise<void> {
    const now = this.now();
    const until = now + ms;
    const keys: string[] = [];
    for (let start = now - (now % this.windowMs); start < until; start += this.windowMs) keys.push(this.windowKey(start));
    this.local.spend(keys, this.keyLifetimeMs, now);
    const redis = this.options.redis;
    if (!redis?.isReady) return;
    try {
      await within(redis.run(SPEND, { keys, arguments: [String(Number.MAX_SAFE_INTEGER), String(this.keyLifetimeMs)] }), this.options.opTimeoutMs);
    } catch {
      /* best effort: each replica still honours Retry-After through its own retry delay */
    }
  }

  /** `<prefix>:rl:v2:{<source>}:<window number>`: one source's windows share a slot. */
  private windowKey(at: number): string {
    return taggedKey(`${this.options.keyPrefix}:rl:${RATE_LIMIT_KEY_VERSION}`, this.options.source, Math.floor(at / this.windowMs));
  }

  private noticeFallback(): void {
    this.options.onFallback?.();
    if (this.fallbackNoticed) return;
    this.fallbackNoticed = true;
    this.logger.warn({ msg: 'shared rate limit unavailable (Redis); using this process\'s share', share: this.localLimit });
    setTimeout(() => (this.fallbackNoticed = false), 60_000).unref();
  }
}
