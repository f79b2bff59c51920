import { randomBytes } from 'node:crypto';

import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

import { SampledWarning } from '../observability/sampled-warning.js';
import { defineScript } from '../redis/redis.client.js';
import { bounded, CacheTimeout } from './bounded.js';
import { CacheConfig } from './cache.config.js';
import { CacheKeys } from './cache-keys.js';
import { REDIS, type Redis } from './redis.provider.js';

/**
 * Lock tokens: this process's random prefix and a counter. Compare-and-delete needs a token no
 * other holder can have, not one nobody can guess (the key is only writable by the replicas), and a
 * counter costs nothing, where random bytes per lock were a system call per source per look-up.
 */
const TOKEN_PREFIX = randomBytes(9).toString('base64url');
let tokenSeq = 0;

const RELEASE = defineScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`);

/**
 * The locks of one customer (its sources, asked for in the same turn) in one round trip: each
 * `SET lock token NX PX ttl` — unless that source's part is already in the cache, fetched after the
 * moment its caller names (so fresh for as long as the caller needs): a holder landed it after this
 * replica read the cache (a busy replica can act on its miss long after sending the read: the
 * bench's stampede saw a second replica take the lock 600 ms after the first holder's answer had
 * landed, and call again). Such a lock is not taken, as if held elsewhere: the caller reads the
 * part as a waiter does. KEYS: the locks, then their parts (one hash tag: one Cluster slot). ARGV:
 * the lifetime in ms, then per lock its token and that moment (ms since the epoch, by the replica's
 * clock). Returns 1 per lock taken, 0 per lock not taken.
 */
const TAKE = defineScript(`
local locks = #KEYS / 2
local taken = {}
for i = 1, locks do
  local landed = false
  local raw = redis.call('GET', KEYS[locks + i])
  if raw then
    local ok, stored = pcall(cjson.decode, raw)
    if ok and type(stored) == 'table' and type(stored.value) == 'table' then
      local fetchedAt = tonumber(stored.value.fetchedAt)
      landed = fetchedAt ~= nil and fetchedAt > tonumber(ARGV[2 * i + 1])
    end
  end
  if landed then taken[i] = 0 else taken[i] = redis.call('SET', KEYS[i], ARGV[2 * i], 'NX', 'PX', ARGV[1]) and 1 or 0 end
end
return taken`);

/**
 * A part found in the cache when a lock is asked for must stay fresh at least this much longer to
 * be served instead of a call (so it is still fresh when the caller reads it).
 */
const LANDED_MARGIN_MS = 1_000;

/** A lock asked for in this turn, sent with the customer's others. */
interface Wanted {
  source: string;
  token: string;
  ttlMs: number;
  /** How long more a part already in the cache must stay fresh to be served instead of taking the lock. */
  freshForMs: number;
  settle: (taken: Promise<string | null>) => void;
}

/** A held lock; release it once the result is stored. */
export interface Lease {
  /** The lock's token in Redis (none when the lock could not be asked for: no Redis). A landing write may hand the lock over with it (SourceCache.land). */
  readonly token?: string;
  /** Releases the lock and tells waiting replicas how the call ended ('ok' or an error kind). */
  release(outcome: string): Promise<void>;
}

/**
 * Single-flight across replicas: before calling a CRM for a customer, a replica takes a short
 * Redis lock (`SET key token NX PX`); the others wait for the holder's "landed" message on a
 * pub/sub channel (no polling) and then read the cache. The lock and its channel carry the
 * customer's hash tag (see CacheKeys): on a Cluster both live on the node holding the customer's
 * cache entry, and the message is sharded pub/sub on that node. Release is compare-and-delete, so an
 * expired holder can never delete a newer holder's lock. Without Redis, or when Redis fails,
 * every replica just proceeds (fail open: at worst one call per replica).
 */
@Injectable()
export class ReplicaLock implements OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaLock.name);
  /** Once per look-up in a burst when Redis is slow: logged at most once a second. */
  private readonly unavailable = new SampledWarning(this.logger);
  private readonly late = new SampledWarning(this.logger);
  private subscriber: Redis | undefined;
  private subscribing: Promise<Redis | undefined> | undefined;
  private readonly waiters = new Map<string, Set<(outcome: string) => void>>();
  private readonly keys: CacheKeys;

  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly config: CacheConfig,
  ) {
    this.keys = new CacheKeys(config.keyPrefix);
  }

  /**
   * Tries to take the lock of `source`'s call for `customerId` for `ttlMs`: a lease, or 'held-elsewhere' when another replica holds it
   * or a holder's answer has landed since this replica read the cache, fresh for at least `freshForMs` more (a caller refreshing
   * ahead needs more than a second: see ProfileCache.resolve) — the caller then reads it, as a waiter does (see TAKE).
   * Fails open when Redis is down or errs. When Redis is only slow (no answer within
   * CACHE_OP_TIMEOUT_MS: a busy machine, the moment a stampede arrives), its answer is awaited
   * `patienceMs` longer, so that a replica does not call the CRM itself merely because the answer
   * was late. Past that it proceeds, still with a lease on its token: if the SET lands after all,
   * this replica holds the lock, makes the call, and releases it as usual.
   */
  async acquire(customerId: string, source: string, ttlMs: number, patienceMs = 0, freshForMs = 0): Promise<Lease | 'held-elsewhere'> {
    const redis = this.redis;
    const noop: Lease = { release: async () => undefined };
    if (!redis?.isReady) return noop;
    const token = `${TOKEN_PREFIX}.${(++tokenSeq).toString(36)}`;
    const key = this.keys.lock(customerId, source);
    const attempt = this.take(redis, customerId, source, token, Math.max(1, Math.ceil(ttlMs)), Math.max(LANDED_MARGIN_MS, freshForMs));
    let ok: string | null;
    try {
      ok = await bounded(attempt, this.config.opTimeoutMs);
    } catch (err) {
      if (!(err instanceof CacheTimeout)) {
        this.unavailable.warn({ msg: 'lock unavailable; proceeding without it', err: (err as Error).message });
        return noop;
      }
      try {
        if (patienceMs <= 0) throw err;
        ok = await bounded(attempt, patienceMs);
      } catch {
        this.late.warn({ msg: 'lock not answered in time; proceeding without waiting for it', waitedMs: this.config.opTimeoutMs + patienceMs });
        return this.lease(redis, key, this.keys.landed(customerId, source), token);
      }
    }
    if (ok !== 'OK') return 'held-elsewhere';
    return this.lease(redis, key, this.keys.landed(customerId, source), token);
  }

  /** Locks asked for in this turn, by customer (sent together at the end of the turn's microtasks). */
  private readonly wanted = new Map<string, Wanted[]>();

  /** 'OK' when taken, null when held elsewhere (or its part has landed fresh): with the customer's other locks asked for in the same turn. */
  private take(redis: Redis, customerId: string, source: string, token: string, ttlMs: number, freshForMs: number): Promise<string | null> {
    let batch = this.wanted.get(customerId);
    if (!batch) {
      const started: Wanted[] = [];
      batch = started;
      this.wanted.set(customerId, started);
      queueMicrotask(() => {
        this.wanted.delete(customerId);
        // a part fetched after `fetchedAfter` is fresh for `freshForMs` more
        const now = Date.now();
        const keys = [...started.map((w) => this.keys.lock(customerId, w.source)), ...started.map((w) => this.keys.part(customerId, w.source))];
        const perLock = started.flatMap((w) => [w.token, String(now - this.config.freshTtlMs + w.freshForMs)]);
        const all = redis.run(TAKE, { keys, arguments: [String(Math.max(...started.map((w) => w.ttlMs))), ...perLock] });
        started.forEach((w, i) => w.settle(all.then((taken) => ((taken as number[])[i] === 1 ? 'OK' : null))));
      });
    }
    return new Promise<string | null>((resolve) => batch.push({ source, token, ttlMs, freshForMs, settle: resolve }));
  }

  /** Release is compare-and-delete; the waiting replicas are told only by the replica that held the lock. */
  private lease(redis: Redis, key: string, channel: string, token: string): Lease {
    return {
      token,
      release: async (outcome: string) => {
        try {
          const deleted = await redis.run(RELEASE, { keys: [key], arguments: [token] });
          if (deleted === 1) await redis.publish(channel, outcome);
        } catch {
          /* the lock expires by itself */
        }
      },
    };
  }

  /**
   * Resolves when the holder announces that the result landed, or when `signal` aborts
   * (the request's deadline). Subscribe first, then the caller re-reads the cache, so a
   * result that landed in between is not missed.
   */
  async subscribe(customerId: string, source: string): Promise<{ landed: Promise<string>; cancel: () => void }> {
    const subscriber = await this.ensureSubscriber();
    let resolve!: (outcome: string) => void;
    const landed = new Promise<string>((r) => (resolve = r));
    if (!subscriber) return { landed: Promise.resolve('unknown'), cancel: () => undefined };
    const channel = this.keys.landed(customerId, source);
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
      try {
        await subscriber.subscribe(channel, (message: string) => this.wake(channel, message));
      } catch {
        resolve('unknown');
      }
    }
    set.add(resolve);
    const cancel = () => {
      const current = this.waiters.get(channel);
      current?.delete(resolve);
      if (current && current.size === 0) {
        this.waiters.delete(channel);
        subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
    return { landed, cancel };
  }

  /** The coherence channel: what one replica changed in the cache, told to the others (see NearCache). */
  private broadcastChannel(): string {
    return this.keys.near();
  }

  /** Tells every replica listening (this one included); lost when Redis is unavailable (it then cannot be read either). */
  async broadcast(message: string): Promise<void> {
    const redis = this.redis;
    if (!redis?.isReady) return;
    try {
      await bounded(redis.publish(this.broadcastChannel(), message), this.config.opTimeoutMs);
    } catch {
      /* nobody can read the changed keys either; see NearCache for the remaining race */
    }
  }

  /**
   * Calls `listener` with every broadcast, from the moment the subscription is up (it waits for
   * Redis). `relinked` is called each time the subscription comes back after a break: messages
   * sent meanwhile are lost, so whatever they would have said must be checked again.
   */
  listen(listener: (message: string) => void, relinked: () => void): void {
    if (!this.redis) return;
    void this.ensureSubscriber().then(async (sub) => {
      if (!sub) return;
      let broken = false;
      sub.on('error', () => (broken = true));
      sub.on('end', () => (broken = true));
      sub.on('ready', () => {
        if (broken) relinked();
        broken = false;
      });
      try {
        await sub.subscribe(this.broadcastChannel(), listener);
      } catch (err) {
        this.logger.warn({ msg: 'cache coherence channel unavailable', err: (err as Error).message });
      }
    });
  }

  private wake(channel: string, outcome: string): void {
    const set = this.waiters.get(channel);
    if (!set) return;
    for (const resolve of set) resolve(outcome);
  }

  private ensureSubscriber(): Promise<Redis | undefined> {
    if (!this.redis) return Promise.resolve(undefined);
    if (!this.subscribing) {
      const sub = this.redis.duplicate() as Redis;
      sub.on('error', () => undefined);
      this.subscriber = sub;
      this.subscribing = sub.connect().then(
        () => sub,
        () => {
          this.subscribing = undefined;
          return undefined;
        },
      );
    }
    return this.subscribing;
  }

  async onApplicationShutdown(): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return;
    if (sub.isOpen) sub.destroy();
  }
}
