import { createHash } from 'node:crypto';

import { type ExecutionContext, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type ThrottlerGenerateKeyFunction, type ThrottlerGetTrackerFunction, ThrottlerGuard, type ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

import { bounded, CacheTimeout } from '../cache/bounded.js';
import type { Redis } from '../cache/redis.provider.js';
import { defineScript } from '../redis/redis.client.js';
import { clientAddress, clientBudgetKey } from './ip-allowlist/client-ip.js';

/** What @nestjs/throttler's guard reads back from its storage (its ThrottlerStorageRecord). */
export interface ThrottleRecord {
  totalHits: number;
  /** Seconds until this client's window ends. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until a refused client may call again (0 when not refused). */
  timeToBlockExpire: number;
}

/**
 * One sync of one client's window: add this replica's new hits (ARGV[1], may be 0) to the shared
 * count and return the total; the first hit of a window gives the key its lifetime (ARGV[2] ms).
 */
const SYNC = defineScript(`
local delta = tonumber(ARGV[1])
if delta == 0 then return tonumber(redis.call('GET', KEYS[1]) or '0') end
local total = redis.call('INCRBY', KEYS[1], delta)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total`);

/** Extra life of a window's key in Redis beyond the window's end, for replicas whose clocks differ a little. */
const KEY_GRACE_MS = 1000;

/** One client's count in one window of one throttler. */
interface Window {
  /** The window's Redis key (throttler, client, length and start: every replica derives the same one). */
  redisKey: string;
  /** Start of the window (ms since the epoch, a multiple of its length) and its length. */
  start: number;
  ttl: number;
  /** Hits counted by this replica in this window (refused ones while blocked are not counted). */
  own: number;
  /** Of `own`, those not yet added to the shared count. */
  pending: number;
  /** Of `own`, those the shared count holds for certain. */
  sent: number;
  /** The other replicas' hits in this window, as of the last sync. */
  others: number;
  /** Refused until then (ms since the epoch); 0 when not refused. */
  blockedUntil: number;
}

export interface InboundThrottleOptions {
  /** The shared Redis client; null or undefined counts in this process alone. */
  redis?: Redis | null;
  keyPrefix: string;
  /** How often the local counts are added to the shared ones (and the others' read back). */
  syncIntervalMs: number;
  /** Bound on one sync's Redis calls. */
  opTimeoutMs: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * @nestjs/throttler's storage, counted in this process and shared with the other replicas
 * periodically, so a request never waits for Redis.
 *
 * Windows are fixed and aligned to the clock (a window of 10 s starts at every multiple of 10 s),
 * so every replica counts the same window under the same key. A hit is judged at once against this
 * replica's own hits plus the other replicas' hits as of the last sync. Every `syncIntervalMs` one
 * script call (by its hash: EVALSHA) per client active in the current window adds this replica's
 * new hits to the shared count in Redis and reads back the total (node-redis sends them as one
 * pipeline).
 *
 * The bound: in one window a client gets at most the limit plus what it sent to the other
 * replicas during one sync interval (their hits this replica had not heard of yet); across a window
 * edge, as with any fixed window, up to twice the limit in a short span. While Redis is away (or
 * not configured) each replica counts alone: up to limit × replicas.
 */
export class InboundThrottleStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: InboundThrottleOptions) {
    this.now = options.now ?? Date.now;
    if (options.redis) {
      this.timer = setInterval(() => void this.sync(), options.syncIntervalMs);
      this.timer.unref();
    }
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottleRecord> {
    return Promise.resolve(this.hit(key, ttl, limit, blockDuration, throttlerName));
  }

  /** Counts one hit and judges it (synchronous: the guard's promise is the only wait). */
  hit(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ThrottleRecord {
    const now = this.now();
    const start = now - (now % ttl);
    const id = `${throttlerName}:${key}:${ttl}`;
    let w = this.windows.get(id);
    if (w === undefined || w.start !== start) {
      // a new window: the count starts again; a refusal still running carries over
      w = { redisKey: `${this.options.keyPrefix}:throttle:${id}:${start / ttl}`, start, ttl, own: 0, pending: 0, sent: 0, others: 0, blockedUntil: w?.blockedUntil ?? 0 };
      this.windows.set(id, w);
    }
    const timeToExpire = Math.ceil((start + ttl - now) / 1000);
    if (w.blockedUntil > now) return { totalHits: w.own + w.others, timeToExpire, isBlocked: true, timeToBlockExpire: Math.ceil((w.blockedUntil - now) / 1000) };
    w.own++;
    w.pending++;
    const totalHits = w.own + w.others;
    if (totalHits <= limit) return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
    // over the limit: refused for blockDuration, or (without one) until the window ends
    w.blockedUntil = blockDuration > 0 ? now + blockDuration : start + ttl;
    return { totalHits, timeToExpire, isBlocked: true, timeToBlockExpire: Math.ceil((w.blockedUntil - now) / 1000) };
  }

  /**
   * Adds this replica's new hits to the shared counts and reads the others' back; drops windows
   * that ended. Runs by itself every `syncIntervalMs`; tests call it to share at a moment of their
   * choosing. A sync already running is joined, not doubled. Never throws: with Redis unavailable
   * the hits stay pending and are added at the next sync that reaches it (within their window).
   */
  sync(): Promise<void> {
    this.running ??= this.syncOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    const now = this.now();
    const due: Array<{ w: Window; delta: number }> = [];
    for (const [id, w] of this.windows) {
      if (w.start + w.ttl <= now) {
        if (w.blockedUntil <= now) this.windows.delete(id);
        continue;
      }
      due.push({ w, delta: w.pending });
      w.pending = 0;
    }
    const redis = this.options.redis;
    if (due.length === 0 || !redis?.isReady) {
      for (const { w, delta } of due) w.pending += delta;
      return;
    }
    await Promise.all(
      due.map(async ({ w, delta }) => {
        try {
          const lifeMs = w.start + w.ttl - now + KEY_GRACE_MS;
          const total = Number(await bounded(redis.run(SYNC, { keys: [w.redisKey], arguments: [String(delta), String(lifeMs)] }), this.options.opTimeoutMs));
          w.sent += delta;
          w.others = Math.max(w.others, total - w.sent);
        } catch (err) {
          // a timeout may have counted already: taken as counted, so hits are never added twice
          // (if it did not, the shared count errs low by them); anything else is sent again next time
          if (err instanceof CacheTimeout) w.sent += delta;
          else w.pending += delta;
        }
      }),
    );
  }

  /** Clients with a window in memory (current or still refused). */
  get size(): number {
    return this.windows.size;
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Hashed keys (and budget keys) of recent clients, so neither is worked out again on every request. */
const KEY_CACHE_LIMIT = 10_000;
const trackerCache = new Map<string, string>();

/** The inbound throttle's client: its address as the IP allowlist sees it (Fastify's trusted-proxy walk; an IPv6 client's /64). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const throttleTracker = (req: Record<string, any>): string => {
  const ip = (req as FastifyRequest).ip as string | undefined;
  if (ip === undefined) return clientBudgetKey(undefined);
  // a function of request.ip alone (parsed and canonicalised by ipaddr.js): worked out once per address
  let tracker = trackerCache.get(ip);
  if (tracker === undefined) {
    tracker = clientBudgetKey(clientAddress({ ip }));
    if (trackerCache.size >= KEY_CACHE_LIMIT) trackerCache.clear();
    trackerCache.set(ip, tracker);
  }
  return tracker;
};
const keyCache = new Map<string, string>();

/**
 * The throttle's storage key: the client alone (hashed, so no address is stored in Redis), not
 * the route. @nestjs/throttler's default key includes the controller and handler, which gave each
 * client a separate budget per route instead of the one budget per client the README promises.
 */
export function throttleKey(_context: unknown, tracker: string, throttlerName: string): string {
  const plain = `${throttlerName}\u0000${tracker}`;
  let key = keyCache.get(plain);
  if (key === undefined) {
    key = createHash('sha256').update(plain).digest('base64url');
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(plain, key);
  }
  return key;
}

/**
 * What one throttler asks of one route, its decorators (@SkipThrottle, @Throttle) read once: they
 * are fixed when the app starts. Null when something is only known per request (a function for a
 * limit, a window or a block duration), which the library's own path handles.
 */
interface RoutePlan {
  name: string;
  skip: boolean;
  skipIf?: (context: ExecutionContext) => boolean;
  limit: number;
  ttl: number;
  blockDuration: number;
  getTracker: ThrottlerGetTrackerFunction;
  generateKey: ThrottlerGenerateKeyFunction;
  setHeaders: boolean;
}

// @nestjs/throttler's metadata keys (its throttler.constants, not exported); the guard's spec
// applies the real decorators, so a rename in the library fails there, not silently here
const SKIP = 'THROTTLER:SKIP';
const LIMIT = 'THROTTLER:LIMIT';
const TTL = 'THROTTLER:TTL';
const BLOCK_DURATION = 'THROTTLER:BLOCK_DURATION';
const TRACKER = 'THROTTLER:TRACKER';
const KEY_GENERATOR = 'THROTTLER:KEY_GENERATOR';

/**
 * @nestjs/throttler's guard, answering synchronously when it can: with this storage (which never
 * waits) and a route whose limits are fixed, a request is judged without a promise, and the
 * decorators are read once per route instead of six metadata look-ups per request. Anything
 * else — another storage, values computed per request, an asynchronous tracker, ignored user
 * agents — takes the library's path unchanged. Same headers, same 429.
 */
@Injectable()
export class InboundThrottleGuard extends ThrottlerGuard {
  private readonly plans = new WeakMap<object, WeakMap<object, RoutePlan[] | null>>();

  // Nest's guards consumer takes a plain boolean as it is (no promise to settle); the declared
  // type is the library's
  override canActivate(context: ExecutionContext): Promise<boolean> {
    return this.judge(context) as Promise<boolean>;
  }

  /** true (let through) or a promise (the library's path, or the 429 being thrown). */
  judge(context: ExecutionContext): boolean | Promise<boolean> {
    const storage = this.storageService;
    if (!(storage instanceof InboundThrottleStorage) || this.shouldSkip !== InboundThrottleGuard.prototype.shouldSkip) return super.canActivate(context);
    const plans = this.plansFor(context);
    if (plans === null) return super.canActivate(context);
    const { req, res } = this.getRequestResponse(context);
    const active: Array<{ plan: RoutePlan; tracker: string }> = [];
    for (const plan of plans) {
      if (plan.skip || plan.skipIf?.(context)) continue;
      const tracker = plan.getTracker(req, context);
      if (typeof tracker !== 'string') return super.canActivate(context); // nothing counted yet
      active.push({ plan, tracker });
    }
    for (const { plan, tracker } of active) {
      const key = plan.generateKey(context, tracker, plan.name);
      const record = storage.hit(key, plan.ttl, plan.limit, plan.blockDuration, plan.name);
      const suffix = plan.name === 'default' ? '' : `-${plan.name}`;
      if (record.isBlocked) {
        if (plan.setHeaders) this.setResponseHeader(res, `Retry-After${suffix}`, record.timeToBlockExpire);
        return this.throwThrottlingException(context, { limit: plan.limit, ttl: plan.ttl, key, tracker, ...record }).then(() => false);
      }
      if (plan.setHeaders) {
        this.setResponseHeader(res, `${this.headerPrefix}-Limit${suffix}`, plan.limit);
        this.setResponseHeader(res, `${this.headerPrefix}-Remaining${suffix}`, Math.max(0, plan.limit - record.totalHits));
        this.setResponseHeader(res, `${this.headerPrefix}-Reset${suffix}`, record.timeToExpire);
      }
    }
    return true;
  }

  private plansFor(context: ExecutionContext): RoutePlan[] | null {
    const handler = context.getHandler();
    const classRef = context.getClass();
    let byClass = this.plans.get(handler);
    if (byClass === undefined) this.plans.set(handler, (byClass = new WeakMap()));
    let plans = byClass.get(classRef);
    if (plans === undefined) byClass.set(classRef, (plans = this.plan(handler, classRef)));
    return plans;
  }

  private plan(handler: object, classRef: object): RoutePlan[] | null {
    const common = this.commonOptions;
    const plans: RoutePlan[] = [];
    for (const throttler of this.throttlers) {
      const name = throttler.name ?? 'default';
      const read = <T>(key: string): T | undefined => this.reflector.getAllAndOverride<T>(`${key}${name}`, [handler as () => void, classRef as new () => unknown]);
      if ((throttler.ignoreUserAgents ?? common.ignoreUserAgents)?.length) return null;
      const limit = read<unknown>(LIMIT) ?? throttler.limit;
      const ttl = read<unknown>(TTL) ?? throttler.ttl;
      const blockDuration = read<unknown>(BLOCK_DURATION) ?? throttler.blockDuration ?? ttl;
      if (typeof limit !== 'number' || typeof ttl !== 'number' || typeof blockDuration !== 'number') return null;
      plans.push({
        name,
        skip: read<boolean>(SKIP) === true,
        skipIf: throttler.skipIf ?? common.skipIf,
        limit,
        ttl,
        blockDuration,
        getTracker: read<ThrottlerGetTrackerFunction>(TRACKER) ?? throttler.getTracker ?? (common.getTracker as ThrottlerGetTrackerFunction),
        generateKey: read<ThrottlerGenerateKeyFunction>(KEY_GENERATOR) ?? throttler.generateKey ?? (common.generateKey as ThrottlerGenerateKeyFunction),
        setHeaders: throttler.setHeaders ?? common.setHeaders ?? true,
      });
    }
    return plans;
  }
}
