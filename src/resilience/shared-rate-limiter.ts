import { Logger } from '@nestjs/common';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';

import type { Redis } from '../cache/redis.provider.js';
import { deadlineOf } from '../upstream/deadline.js';
import { sleep } from '../upstream/timers.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import type { BackgroundWork } from './background.js';

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
 * land there (a busy process can take that long between the grant and the request leaving). When Redis is down or slow each process falls
 * back, loudly, to its share (limit ÷ expected replicas). A call waits briefly for a slot, never
 * past its deadline; otherwise it is refused as rate limited, which the aggregation turns into a
 * stale or `rate_limited` source rather than an error.
 */
export class SharedRateLimiter {
  private readonly logger = new Logger(`RateLimit:${this.options.source}`);
  private readonly limiter: RateLimiterAbstract;
  private readonly key: string;
  private waiting = 0;
  private fallbackNoticed = false;
  private readonly windowMs: number;
  /** The end of each window in which a grant also counts against the next window (a quarter of it, at most 250 ms). */
  private readonly guardMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.key = options.source;
    this.windowMs = options.durationSec * 1000;
    this.guardMs = Math.min(250, this.windowMs / 4);
    // Each window has a key of its own; the key must outlive its window even when a call near the
    // end of the previous window created it early (its expiry counts from creation), or the count
    // would restart inside the window.
    const keyLifetimeSec = options.durationSec * 2;
    this.now = options.now ?? Date.now;
    const local = new RateLimiterMemory({
      points: options.redis ? Math.max(1, Math.floor(options.points / options.expectedReplicas)) : options.points,
      duration: keyLifetimeSec,
      keyPrefix: `${options.keyPrefix}:rl-local`,
    });
    if (!options.redis) {
      this.limiter = local;
      return;
    }
    const insurance = new RateLimiterMemory({ points: Math.max(1, Math.floor(options.points / options.expectedReplicas)), duration: keyLifetimeSec });
    const shared = new RateLimiterRedis({
      storeClient: options.redis,
      useRedisPackage: true, // node-redis v5: without this every call fails and silently falls to insurance
      points: options.points,
      duration: keyLifetimeSec,
      keyPrefix: `${options.keyPrefix}:rl`,
      rejectIfRedisNotReady: true,
    });
    const onInsurance = () => this.noticeFallback();
    this.limiter = new RLWrapperTimeouts({ limiter: shared, timeoutMs: options.opTimeoutMs, insuranceLimiter: wrapNotifying(insurance, onInsurance) });
  }

  /** Calls of this process waiting for a slot now. */
  get waiters(): number {
    return this.waiting;
  }

  /** Waits for a slot within the budget and the signal's deadline, or throws rate_limited. Background work only takes a spare slot (acquireSpare). */
  async acquire(signal?: AbortSignal, background?: BackgroundWork): Promise<void> {
    if (background) return this.acquireSpare(background.reserveFraction);
    const deadline = deadlineOf(signal);
    const waitUntil = Math.min(Date.now() + this.options.maxWaitMs, deadline ?? Number.POSITIVE_INFINITY);
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
   * Looked at first, so a window live traffic has used up is not even touched; a slot taken while
   * another replica took the last spare one is given back.
   */
  private async acquireSpare(reserveFraction: number): Promise<void> {
    const now = this.now();
    const toBoundary = this.windowMs - (now % this.windowMs);
    // not counted as a refusal: that metric means live look-ups went short
    const refuse = () => new UpstreamError(this.options.source, 'rate_limited', 'no spare budget for background work', undefined, toBoundary);
    const reserve = reserveFraction > 0 ? Math.max(1, Math.ceil(this.options.points * reserveFraction)) : 0;
    const keys = toBoundary > this.guardMs ? [this.windowKey(now)] : [this.windowKey(now), this.windowKey(now + this.windowMs)];
    const taken: string[] = [];
    try {
      for (const key of keys) {
        const seen = await this.limiter.get(key);
        if ((seen?.consumedPoints ?? 0) + 1 + reserve > this.options.points) throw refuse();
      }
      for (const key of keys) {
        const res = await this.limiter.consume(key, 1);
        taken.push(key);
        if (res.remainingPoints < reserve) throw refuse();
      }
      return;
    } catch (err) {
      await Promise.all(taken.map((key) => this.limiter.reward(key, 1).catch(() => undefined)));
      if (err instanceof UpstreamError) throw err;
      if (!(err instanceof RateLimiterRes)) throw new UpstreamError(this.options.source, 'unavailable', 'rate limiter failed', undefined, undefined, { cause: err });
      throw refuse();
    }
  }

  /**
   * 0 when a slot was taken, else the ms until a window with room opens. A call made in the last
   * 250 ms of a window may reach the system in its next second, so it is charged to both windows:
   * wherever it lands, that second's count includes it (no waiting, as a dead band would cost).
   */
  private async tryConsume(): Promise<number> {
    const now = this.now();
    const toBoundary = this.windowMs - (now % this.windowMs);
    try {
      await this.limiter.consume(this.windowKey(now), 1);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw new UpstreamError(this.options.source, 'unavailable', 'rate limiter failed', undefined, undefined, { cause: res });
      // the next window opens at the boundary (the key's own expiry may run a little past it)
      return Math.max(1, Math.min(res.msBeforeNext, toBoundary));
    }
    if (toBoundary > this.guardMs) return 0;
    try {
      await this.limiter.consume(this.windowKey(now + this.windowMs), 1);
      return 0;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw new UpstreamError(this.options.source, 'unavailable', 'rate limiter failed', undefined, undefined, { cause: res });
      return toBoundary + this.windowMs; // the next second is already full: the one after
    }
  }

  /** The system said "come back in ms": no replica calls it before then (every window until then is spent). */
  async pause(ms: number): Promise<void> {
    const now = this.now();
    const until = now + ms;
    try {
      for (let start = now - (now % this.windowMs); start < until; start += this.windowMs) {
        await this.limiter.block(this.windowKey(start), Math.max(1, Math.ceil((Math.min(until, start + this.windowMs) - now) / 1000)));
      }
    } catch {
      /* best effort: each replica still honours Retry-After through its own retry delay */
    }
  }

  private windowKey(at: number): string {
    return `${this.key}:${Math.floor(at / this.windowMs)}`;
  }

  private noticeFallback(): void {
    this.options.onFallback?.();
    if (this.fallbackNoticed) return;
    this.fallbackNoticed = true;
    this.logger.warn({ msg: 'shared rate limit unavailable (Redis); using this process\'s share', share: Math.floor(this.options.points / this.options.expectedReplicas) });
    setTimeout(() => (this.fallbackNoticed = false), 60_000).unref();
  }
}

/** The insurance limiter, reporting each time it is used (so the fall-back is logged). */
function wrapNotifying(limiter: RateLimiterMemory, notify: () => void): RateLimiterMemory {
  const consume = limiter.consume.bind(limiter);
  limiter.consume = (key, points, options) => {
    notify();
    return consume(key, points, options);
  };
  return limiter;
}
