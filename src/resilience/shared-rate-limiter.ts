import { Logger } from '@nestjs/common';

import type { Redis } from '../cache/redis.provider.js';
import { defineScript } from '../redis/redis.client.js';
import { taggedKey } from '../redis/redis-keys.js';
import { deadlineOf } from '../upstream/deadline.js';
import { dueAfterPendingIo, sleep } from '../upstream/timers.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import type { BackgroundWork } from './background.js';

/** Bumped when the rate-limit keys change meaning, so a new release never counts on old keys (v3: a hash per window, the count and its latest slot). */
export const RATE_LIMIT_KEY_VERSION = 'v3';

/**
 * Charges ARGV[2] calls to every window in KEYS (the current one, and the next one near a
 * boundary), all or none: 0 when granted, else the position of the first window without room. Each
 * window is a hash (see RESERVE); this counts `n` only. Window i has room while its count is below
 * ARGV[i + 2] (the budget less any reserve kept for live look-ups, less the calls asked for but
 * one); ARGV[1] is a new window key's lifetime. The keys share a hash tag, so the script touches
 * one Cluster slot.
 */
const CHARGE = defineScript(`
local count = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('HGET', key, 'n') or '0') >= tonumber(ARGV[i + 2]) then return i end
end
for _, key in ipairs(KEYS) do
  if redis.call('HINCRBY', key, 'n', count) == count then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0`);

/**
 * Reserves the next `count` free slots for a live call (a batch may make several calls at once),
 * first come first served across every replica: KEYS are consecutive windows from the current
 * one, each a hash (`n`: its count, `t`: its latest slot, ms into it). A window's first `burst`
 * slots may go at once; every further slot opens one step (`spread` ÷ (points − burst) ms) after
 * the one before, and no sooner than its even share of the window (slot n at (n − burst) steps), so
 * neither a window's start nor the moment traffic resumes after a quiet spell spends its budget
 * at once. The calls all go out when the last of their slots opens, so the slots are taken in the
 * first window with room for all of them, and charged to the next window too when that moment is
 * in the window's last `guard` ms (which then must have room for them as well). Returns {wait ms,
 * position of the window, windows charged}, or -1 (nothing charged) when that moment is more than
 * `maxWait` away. ARGV: key lifetime, ms into the first window, window ms, points, burst, spread,
 * guard, maxWait, count. Pacing.reserve is the same rule in the process (tested to agree).
 */
const RESERVE = defineScript(`
local life, offset, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local points, burst, spread = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local guard, maxWait, count = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local function used(key) return tonumber(redis.call('HGET', key, 'n') or '0') end
local function steps(k) return math.ceil(k * spread / (points - burst)) end
local function charge(key)
  if redis.call('HINCRBY', key, 'n', count) == count then redis.call('PEXPIRE', key, life) end
end
for i = 1, #KEYS - 1 do
  local n = used(KEYS[i])
  if n + count <= points then
    local at = 0
    if i == 1 then at = offset end
    if n + count > burst then
      at = math.max(at, steps(n + count - burst))
      local last = redis.call('HGET', KEYS[i], 't')
      if last then at = math.max(at, tonumber(last) + steps(n + count - burst) - steps(math.max(n - burst, 0))) end
    end
    if at < window then
      local wait = (i - 1) * window - offset + at
      if wait > maxWait then return -1 end
      local guarded = window - at <= guard
      if not guarded or used(KEYS[i + 1]) + count <= points then
        charge(KEYS[i])
        if tonumber(redis.call('HGET', KEYS[i], 't') or '-1') < at then redis.call('HSET', KEYS[i], 't', at) end
        if guarded then
          charge(KEYS[i + 1])
          return {wait, i, 2}
        end
        return {wait, i, 1}
      end
    end
  end
end
return -1`);

/** Marks every window in KEYS as spent (the system said "come back later"). One slot, like CHARGE. */
const SPEND = defineScript(`
for _, key in ipairs(KEYS) do
  redis.call('HSET', key, 'n', ARGV[1])
  redis.call('PEXPIRE', key, ARGV[2])
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
  private readonly counts = new Map<string, WindowCount & { expiresAt: number }>();

  /** As CHARGE: 0 when granted (every window charged), else the position (1-based) of the first window without room (count at its cap). */
  charge(keys: string[], caps: number[], lifetimeMs: number, now: number, count = 1): number {
    this.expire(now);
    const full = keys.findIndex((key, i) => (this.counts.get(key)?.used ?? 0) >= caps[i]!);
    if (full >= 0) return full + 1;
    this.add(keys, count, lifetimeMs, now);
    return 0;
  }

  /** As RESERVE, on this process's counts: the next free slots, charged, or undefined when they are more than `maxWaitMs` away. */
  reserve(keys: string[], slots: SlotRequest, lifetimeMs: number, now: number): Reservation | undefined {
    this.expire(now);
    const reservation = slots.pacing.reserve(
      keys.map((key) => this.counts.get(key) ?? { used: 0 }),
      slots,
    );
    if (reservation) this.add(keys.slice(reservation.window, reservation.window + reservation.windows), slots.count, lifetimeMs, now, reservation.at);
    return reservation;
  }

  /** Counts grants made elsewhere (by Redis) toward this process's own windows, without a check. */
  record(keys: string[], lifetimeMs: number, now: number, count = 1): void {
    this.add(keys, count, lifetimeMs, now);
  }

  spend(keys: string[], lifetimeMs: number, now: number): void {
    for (const key of keys) this.counts.set(key, { used: Number.MAX_SAFE_INTEGER, expiresAt: now + lifetimeMs });
  }

  /** Adds `count` to each window; the first one's latest slot moves to `at` (ms into it) if later. */
  private add(keys: string[], count: number, lifetimeMs: number, now: number, at?: number): void {
    keys.forEach((key, i) => {
      const entry = this.counts.get(key) ?? { used: 0, expiresAt: now + lifetimeMs };
      entry.used += count;
      if (i === 0 && at !== undefined && !(entry.last !== undefined && entry.last >= at)) entry.last = at;
      this.counts.set(key, entry);
    });
  }

  private expire(now: number): void {
    for (const [key, entry] of this.counts) if (entry.expiresAt <= now) this.counts.delete(key);
  }
}

export interface RateLimitOptions {
  source: string;
  points: number;
  durationSec: number;
  /**
   * Share of a window's budget (0–1] that may be used at once; the rest opens evenly through the
   * window (1, the default: all of it at once).
   */
  burstShare?: number;
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
  /** Slots given up because this process woke too late to use them in the windows they were charged to (see acquire). */
  onLateSlot?: () => void;
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
 * back, loudly, to its share (limit ÷ expected replicas; see fallBack). A call waits briefly for a slot, never
 * past its deadline; otherwise it is refused as rate limited, which the aggregation turns into a
 * stale or `rate_limited` source rather than an error.
 *
 * Paced, and first come first served: a live call reserves the next free slot (RESERVE) and
 * sleeps until it opens — no polling, so a replica is never starved by others that happen to ask
 * at the right moment. Only a burst (`burstShare` of the budget) opens at a window's start; the
 * other slots open evenly through it, the last before the guard band (so it is not charged twice).
 * Spent at once, a budget of 5 a second went on the first few look-ups of each second, one
 * customer per call, and whoever came next waited for the next second, past the deadline of an
 * 800 ms answer (the bench's storm: 37–71 answers of 1,800 failed); paced, no slot is more than a
 * fraction of the window away, and the batch waiting for it carries everyone who came meanwhile
 * (see SourceBatches). Background work takes a spare slot now or none (CHARGE, never a wait).
 */
export class SharedRateLimiter {
  private readonly logger = new Logger(`RateLimit:${this.options.source}`);
  private readonly local = new LocalWindows();
  /** Without Redis, the whole limit; with Redis, what this process may use alone while Redis is unavailable. */
  private readonly localLimit: number;
  private waiting = 0;
  private fallbackNoticed = false;
  /** The length of a window (ms). */
  readonly windowMs: number;
  /** The end of each window in which a grant also counts against the next window (a quarter of it, at most 250 ms). */
  private readonly guardMs: number;
  /**
   * Each window has a key of its own; the key must outlive its window even when a call near the
   * end of the previous window created it early (its expiry counts from creation), or the count
   * would restart inside the window.
   */
  private readonly keyLifetimeMs: number;
  private readonly now: () => number;
  /** How a window's budget opens: the whole limit (through Redis), and this process's share (without it). */
  private readonly shared: Pacing;
  private readonly own: Pacing;
  /** The limit less the other replicas' shares (see sharedPacing). */
  private readonly humble: Pacing;

  constructor(private readonly options: RateLimitOptions) {
    this.windowMs = options.durationSec * 1000;
    this.guardMs = Math.min(250, this.windowMs / 4);
    this.keyLifetimeMs = this.windowMs * 2;
    this.now = options.now ?? Date.now;
    this.localLimit = options.redis ? Math.max(1, Math.floor(options.points / options.expectedReplicas)) : options.points;
    const spreadMs = this.windowMs - this.guardMs - 1;
    this.shared = new Pacing(options.points, options.burstShare ?? 1, spreadMs);
    this.own = new Pacing(this.localLimit, options.burstShare ?? 1, spreadMs);
    this.humble = new Pacing(Math.max(1, options.points - (options.expectedReplicas - 1) * this.localLimit), options.burstShare ?? 1, spreadMs);
  }

  /** Calls of this process waiting for a slot now. */
  get waiters(): number {
    return this.waiting;
  }

  /**
   * Reserves `count` slots (the calls of one batch that go out together; no more than a window
   * holds) and waits until they open, resolving with how many it took, within the budget (`maxWaitMs`, RATE_LIMIT_MAX_WAIT_MS unless said) and the signal's
   * deadline, or throws rate_limited at once. Background work only takes spare slots (acquireSpare).
   */
  async acquire(signal?: AbortSignal, background?: BackgroundWork, maxWaitMs = this.options.maxWaitMs, count = 1): Promise<number> {
    if (background) return this.acquireSpare(background.reserveFraction, count);
    const deadline = deadlineOf(signal);
    const end = Date.now() + Math.max(0, Math.min(maxWaitMs, (deadline ?? Number.POSITIVE_INFINITY) - Date.now()));
    for (;;) {
      const reserved = this.waiting >= this.options.maxQueue ? undefined : await this.reserve(Math.max(0, end - Date.now()), count);
      if (reserved === undefined) {
        this.options.onRefuse?.();
        const now = this.now();
        throw new UpstreamError(this.options.source, 'rate_limited', 'outbound rate limit reached', undefined, this.windowMs - (now % this.windowMs));
      }
      const { wait, taken, leaveBy, retry } = reserved;
      if (wait > 0) {
        this.options.onWait?.(wait);
        this.waiting++;
        const slept = await sleep(wait, signal).finally(() => this.waiting--);
        if (!slept) throw new UpstreamError(this.options.source, 'timeout', 'cancelled while waiting for a rate-limit slot');
      }
      // nothing taken yet: the windows this process finishes on its share are over, Redis next
      if (retry) continue;
      // A busy process can wake (or hear Redis) later than the slot: past the windows its slots were
      // charged to (see leaveBy), the call would land in a window that did not count it —
      // the bench's Redis failover under CPU pressure saw 11–16 calls a second against 10. Those
      // slots are given up (their window counts a call it never got) and the next free ones taken.
      if (this.now() <= leaveBy) return taken;
      this.options.onLateSlot?.();
    }
  }

  /**
   * Reserves the next `wanted` free slots (RESERVE; no more than a window holds) within
   * `maxWaitMs`: the ms until they open and how many were taken, or undefined when they are not
   * that soon (nothing is charged then). In Redis, or in this process's own windows
   * when there is no Redis or it is unavailable or slow (as `charge`).
   */
  private async reserve(maxWaitMs: number, wanted: number): Promise<{ wait: number; taken: number; leaveBy: number; retry?: true } | undefined> {
    const now = this.now();
    const offset = now % this.windowMs;
    // the windows a slot within maxWaitMs can fall in, and the one after the last (a slot in its guard band is charged there too)
    const reach = Math.min(MAX_WINDOWS_AHEAD, Math.floor((offset + maxWaitMs) / this.windowMs) + 1);
    const keys = Array.from({ length: reach + 1 }, (_, i) => this.windowKey(now + i * this.windowMs));
    const lifetimeMs = (reach + 2) * this.windowMs;
    const redis = this.options.redis;
    if (redis?.isReady && Math.floor(now / this.windowMs) > this.localThrough) {
      try {
        const p = this.sharedPacing(now);
        const count = Math.min(wanted, p.points);
        const args = [lifetimeMs, offset, this.windowMs, p.points, p.burst, p.spreadMs, this.guardMs, Math.floor(maxWaitMs), count].map(String);
        const reserving = redis.run(RESERVE, { keys, arguments: args });
        let answer: unknown;
        try {
          answer = await within(reserving, this.options.opTimeoutMs);
        } catch (err) {
          if (!(err instanceof StoreTimeout)) throw err;
          answer = await within(reserving, this.options.opTimeoutMs * (SLOW_ANSWER_PATIENCE - 1));
        }
        this.sharedAnswered(now);
        if (!Array.isArray(answer)) return undefined;
        const [wait, position, windows] = answer.map(Number) as [number, number, number];
        this.local.record(keys.slice(position - 1, position - 1 + windows), lifetimeMs, now, count);
        // the time Redis counted from has passed while its answer travelled
        return { wait: Math.max(0, wait - (this.now() - now)), taken: count, leaveBy: this.leaveBy(now, position - 1, windows) };
      } catch {
        /* counted locally below */
      }
    }
    const count = Math.min(wanted, this.own.points);
    if (redis?.isReady && Math.floor(now / this.windowMs) <= this.localThrough) {
      // Redis is back, but this window was charged on the share, so it is finished on the share —
      // and only it: a slot booked on the share in a later window would make that one local too,
      // and under steady load each window booked the next, so a replica stayed on its share for
      // good after a failover (the bench's Sentinel failover under CPU pressure: 13–16 calls a second
      // against 10, the share plus what Redis gave the others). No slot left on the share before
      // the last local window's guard band: come back after it, and ask Redis.
      const lastLocal = this.localThrough;
      const localMax = Math.min(maxWaitMs, (lastLocal + 1) * this.windowMs - this.guardMs - 1 - now);
      const reservation = localMax >= 0 ? this.local.reserve(keys, { pacing: this.own, offset, windowMs: this.windowMs, guardMs: this.guardMs, maxWaitMs: localMax, count }, lifetimeMs, now) : undefined;
      if (reservation) return { wait: reservation.wait, taken: count, leaveBy: this.leaveBy(now, reservation.window, reservation.windows) };
      const retryIn = (lastLocal + 1) * this.windowMs - now;
      return retryIn <= maxWaitMs ? { wait: retryIn, taken: 0, leaveBy: Number.POSITIVE_INFINITY, retry: true } : undefined;
    }
    if (redis) this.fallBack(now);
    const reservation = this.local.reserve(keys, { pacing: this.own, offset, windowMs: this.windowMs, guardMs: this.guardMs, maxWaitMs, count }, lifetimeMs, now);
    // the windows charged here are finished here
    if (redis && reservation) this.localThrough = Math.max(this.localThrough, Math.floor(now / this.windowMs) + reservation.window + reservation.windows - 1);
    return reservation && { wait: reservation.wait, taken: count, leaveBy: this.leaveBy(now, reservation.window, reservation.windows) };
  }

  /**
   * The latest moment a call on slots charged to `windows` windows (from the `first`-th after
   * now's) may still go: the middle of the last one's guard band. The pacing puts no slot in a
   * guard band unless the next window is charged too, so a call woken up to half the band late
   * still has the other half (≥ 125 ms) to leave before the boundary.
   */
  private leaveBy(now: number, first: number, windows: number): number {
    return (Math.floor(now / this.windowMs) + first + windows) * this.windowMs - this.guardMs / 2;
  }

  /**
   * Slots for background work: taken at once or not at all (never a wait), and only while
   * `reserveFraction` of the window's budget stays free for live look-ups
   * after taking them (in a window's last 250 ms, of the next window's too, as a call then may
   * count against either). One script looks and takes, so two replicas never both take the last
   * spare slot.
   */
  private async acquireSpare(reserveFraction: number, wanted: number): Promise<number> {
    const now = this.now();
    const toBoundary = this.windowMs - (now % this.windowMs);
    const count = Math.min(wanted, this.localLimit, this.options.points);
    const full = await this.charge(now, reserveFraction, count);
    // not counted as a refusal: that metric means live look-ups went short
    if (full !== 0) throw new UpstreamError(this.options.source, 'rate_limited', 'no spare budget for background work', undefined, toBoundary);
    return count;
  }

  /**
   * Charges the windows in Redis, or locally when there is no Redis or it is unavailable or slow
   * (see fallBack). What Redis grants is also counted locally (a window booked ahead through Redis
   * and then finished on the share counts this process's own bookings). A window charged locally is
   * finished locally: when Redis comes back (a failover: the new primary may not have the counts of
   * the last moments), its grants in that window would come on top of the shares already used.
   */
  private async charge(now: number, reserveFraction = 0, count = 1): Promise<number> {
    const offset = now % this.windowMs;
    const guarded = this.windowMs - offset <= this.guardMs;
    const keys = guarded ? [this.windowKey(now), this.windowKey(now + this.windowMs)] : [this.windowKey(now)];
    const lastWindow = Math.floor(now / this.windowMs) + keys.length - 1;
    // the budget less the reserve kept for live look-ups: a window has room when its count plus
    // `count` stays within it (background work is not paced: the reserve is what keeps slots for
    // the live look-ups later in the window; paced, pre-fetches that come at a second's start —
    // Genesys events often do — were refused again and again: 6 of 120 callers not ready in time)
    const capsOf = (pacing: Pacing) => {
      const reserve = reserveFraction > 0 ? Math.max(1, Math.ceil(pacing.points * reserveFraction)) : 0;
      return keys.map(() => pacing.points - reserve - count + 1);
    };
    const redis = this.options.redis;
    if (redis?.isReady && Math.floor(now / this.windowMs) > this.localThrough) {
      try {
        const args = [String(this.keyLifetimeMs), String(count), ...capsOf(this.sharedPacing(now)).map(String)];
        const granting = redis.run(CHARGE, { keys, arguments: args });
        let full: number;
        try {
          full = Number(await within(granting, this.options.opTimeoutMs));
        } catch (err) {
          if (!(err instanceof StoreTimeout)) throw err;
          full = Number(await within(granting, this.options.opTimeoutMs * (SLOW_ANSWER_PATIENCE - 1)));
        }
        this.sharedAnswered(now);
        if (full === 0) this.local.record(keys, this.keyLifetimeMs, now, count);
        return full;
      } catch {
        /* counted locally below */
      }
    }
    if (!redis) return this.local.charge(keys, capsOf(this.own), this.keyLifetimeMs, now, count);
    if (redis.isReady && Math.floor(now / this.windowMs) <= this.localThrough) {
      // finishing a window charged on the share (see reserve), never making the next one local too
      if (lastWindow > this.localThrough) return 1;
      return this.local.charge(keys, capsOf(this.own), this.keyLifetimeMs, now, count);
    }
    this.fallBack(now);
    this.localThrough = Math.max(this.localThrough, lastWindow);
    return this.local.charge(keys, capsOf(this.own), this.keyLifetimeMs, now, count);
  }

  /** The last window this process counts on its own share (it fell back to it in that window or the one before). */
  private localThrough = Number.NEGATIVE_INFINITY;
  /** Redis has answered since the last fall-back. */
  private usedShared = false;
  /** The last window in which this process, back on Redis after counting on its share, leaves room for replicas not back yet. */
  private humbleThrough = Number.NEGATIVE_INFINITY;

  /**
   * The budget this process asks Redis for: the limit, except in the window it comes back from its
   * share and the next, when the other replicas may still be counting on theirs (their reconnects
   * are not simultaneous; the bench's Redis drill saw 6 calls in a second against 5): then the limit
   * less their shares.
   */
  private sharedPacing(now: number): Pacing {
    const returning = !this.usedShared && this.localThrough > Number.NEGATIVE_INFINITY;
    return returning || Math.floor(now / this.windowMs) <= this.humbleThrough ? this.humble : this.shared;
  }

  private sharedAnswered(now: number): void {
    if (!this.usedShared && this.localThrough > Number.NEGATIVE_INFINITY) this.humbleThrough = Math.floor(now / this.windowMs) + 1;
    this.usedShared = true;
  }

  /**
   * This process counts on its own share from now, less what Redis granted it in this window (the
   * others' grants there are unknown here: the second Redis is lost in can see up to the limit plus
   * the shares; taking that window and the next as spent kept it within the limit in the bench, but
   * refused every call — an agent's billing write included — for up to two seconds, and with a
   * generous limit that costs far more than it saves). Windows charged on the share are finished on
   * it, even if Redis comes back.
   */
  private fallBack(now: number): void {
    this.noticeFallback();
    this.usedShared = false;
    this.localThrough = Math.max(this.localThrough, Math.floor(now / this.windowMs));
  }

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

  /** `<prefix>:rl:v3:{<source>}:<window number>`: one source's windows share a slot. */
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

/** Slots reserved: their calls go `wait` ms from now (`at` ms into window `window`, 0: the current one), charged to it and, when `windows` is 2, the next. */
interface Reservation {
  wait: number;
  window: number;
  windows: number;
  at: number;
}

/** A window's count, and when its latest slot opens (ms into it; none yet: undefined). */
interface WindowCount {
  used: number;
  last?: number;
}

/** What a reservation asks for: `count` slots within `maxWaitMs`, `offset` ms into the current window. */
interface SlotRequest {
  pacing: Pacing;
  offset: number;
  windowMs: number;
  guardMs: number;
  maxWaitMs: number;
  count: number;
}

/** The furthest window a reservation looks at (a wait is bounded by a request's deadline, well under that). */
const MAX_WINDOWS_AHEAD = 4;

/**
 * How a window's budget opens: `burst` slots at its start, the others one by one at even steps
 * until `spreadMs` into it, when the whole budget is open.
 */
class Pacing {
  readonly burst: number;

  constructor(
    readonly points: number,
    burstShare: number,
    readonly spreadMs: number,
  ) {
    this.burst = Math.min(points, Math.max(1, Math.ceil(points * burstShare)));
  }

  /** `k` steps, in ms (a step: the spread ÷ the slots beyond the burst); as RESERVE computes it, to the last bit. */
  steps(k: number): number {
    return Math.ceil((k * this.spreadMs) / (this.points - this.burst));
  }

  /** RESERVE's rule, over consecutive windows from the current one (the last is only charged, for a moment in its predecessor's guard band). */
  reserve(windows: readonly WindowCount[], slots: Omit<SlotRequest, 'pacing'>): Reservation | undefined {
    for (let i = 0; i < windows.length - 1; i++) {
      const { used, last } = windows[i]!;
      if (used + slots.count > this.points) continue;
      let at = i === 0 ? slots.offset : 0;
      if (used + slots.count > this.burst) {
        at = Math.max(at, this.steps(used + slots.count - this.burst));
        if (last !== undefined) at = Math.max(at, last + this.steps(used + slots.count - this.burst) - this.steps(Math.max(used - this.burst, 0)));
      }
      if (at >= slots.windowMs) continue;
      const wait = i * slots.windowMs - slots.offset + at;
      if (wait > slots.maxWaitMs) return undefined;
      const guarded = slots.windowMs - at <= slots.guardMs;
      // in the guard band the calls may land in the next window: it must have room for them too
      if (!guarded || windows[i + 1]!.used + slots.count <= this.points) return { wait, window: i, windows: guarded ? 2 : 1, at };
    }
    return undefined;
  }

}
