import { setMaxListeners } from 'node:events';

import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

import type { FetchResult } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { Deadline } from '../upstream/deadline.js';
import { NearCache, type NearEntry } from './near-cache.js';
import { type Lease, ReplicaLock } from './replica-lock.js';
import { type CachedParts, type CachedSource, type Generation, NEVER_INVALIDATED, SourceCache } from './source-cache.js';

/**
 * How long one source call may take, as the use case sets it: its answer is awaited for `answerMs`
 * (rate-limit waits and retries fit in that), and it may run on `lateMs` more to land in the cache.
 * A port: the cache declares it, the aggregation provides it from its settings.
 */
export abstract class FetchBudget {
  abstract readonly answerMs: number;
  abstract readonly lateMs: number;
}

/**
 * Calls a source for one customer. It is given its own deadline (its signal cancels the call);
 * a failure rejects with an error whose `kind` names it ('timeout', 'rate_limited', …) — anything
 * else counts as 'unavailable' and is logged.
 */
export type SourceFetch = (deadline: Deadline) => Promise<FetchResult>;

/** A source's answer, live or kept: `cache` says where it came from. */
export interface Answered {
  outcome: 'answered';
  entry: CachedSource;
  /** hit: a fresh cached copy; miss: a call of this process; wait: another replica's call. */
  cache: 'hit' | 'miss' | 'wait';
  latencyMs: number;
}

/** The source could not answer in time: why, and the copy kept from its last answer (within the grace period), if any. */
export interface Unanswered {
  outcome: 'failed';
  /** The failure's kind ('timeout' when the answer's deadline passed first). */
  reason: string;
  latencyMs: number;
  stale?: CachedSource;
}

export type Resolution = Answered | Unanswered;

/** How much longer than CACHE_OP_TIMEOUT_MS a slow lock answer is awaited before this replica calls by itself. */
const LOCK_PATIENCE_MS = 0;

/** A failure told by the replica that made the call. */
class FailedElsewhere extends Error {
  constructor(readonly kind: string) {
    super('failed on the replica that made the call');
  }
}

/** A call running in this process, and whether it got its entry by waiting for another replica. */
interface Flight {
  entry: CachedSource;
  via: 'miss' | 'wait';
}

/**
 * The cache policy, whole: `resolve` answers one source's part of one customer by the deadline.
 *
 *   near tier (this process; see NearCache) → fresh: a hit, no Redis round trip
 *   → read Redis (one round trip per customer for every source resolved in the same turn); the
 *     newer of the two copies stands (with Redis away: the near copy)
 *   → fresh: a hit
 *   → else one call per source and customer at a time: joined in this process, and across
 *     replicas through a Redis lock (the others wait for the holder's "landed" message, then read)
 *   → the call's answer, or at the deadline (or on failure) the kept copy as stale, or the failure.
 *
 * A call that misses the answer's deadline runs on within the late budget and its answer still lands
 * in the cache (the late write). A write is skipped when the customer was invalidated since the
 * read (the generation guard): that change wins, as the fetched data may predate it.
 *
 * Every part read or fetched is kept in the near tier too (unless the customer was invalidated here
 * meanwhile); every write and invalidation that reaches Redis is announced to the other replicas.
 * A batched per-source fetch fits behind `SourceFetch` (calls for many customers, one per key here).
 */
@Injectable()
export class ProfileCache implements OnApplicationShutdown {
  private readonly logger = new Logger(ProfileCache.name);
  /** Calls joined by requests in this process, by source and customer. */
  private readonly inflight = new Map<string, Promise<Flight>>();
  /** Every call still running, joined or not (an invalidation unlists a call from `inflight`, not from here). */
  private readonly running = new Set<Promise<unknown>>();
  /** Cache writes still running (answers do not wait for them). */
  private readonly writes = new Set<Promise<void>>();
  /** Reads asked for in this turn, one per customer, sent together. */
  private readonly reads = new Map<string, { sources: Set<string>; parts: Promise<CachedParts> }>();
  /** Reads sent to Redis and not yet answered, by customer (joined by requests for the sources they cover). */
  private readonly sentReads = new Map<string, { sources: Set<string>; parts: Promise<CachedParts> }>();
  /** Every call's deadline listens to it (as many listeners as calls in flight): no listener cap. */
  private readonly shutdown = (() => {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  })();

  constructor(
    private readonly store: SourceCache,
    private readonly lock: ReplicaLock,
    private readonly budget: FetchBudget,
    private readonly metrics: Metrics,
    private readonly near: NearCache,
  ) {
    // an invalidation on another replica also unlists the calls running here (new requests start fresh ones)
    near.onInvalidated = (customerId, sources) => {
      for (const source of sources) this.inflight.delete(flightKey(source, customerId));
      this.forgetReads(customerId);
    };
    // parts kept here after this replica's own invalidation stay valid under its generation; one
    // deferred while Redis was away reaches the other replicas once Redis has it
    store.onApplied = (customerId, sources, generation, deferred) => {
      near.ownInvalidation(customerId, generation);
      if (deferred) void near.announceInvalidation(customerId, sources);
    };
  }

  /** The longest a call may run: its answer time plus the late budget (also the lock's lifetime and a waiter's patience). */
  private get budgetMs(): number {
    return this.budget.answerMs + this.budget.lateMs;
  }

  /** `aheadMs`: a part due to go stale within it counts as due already (refresh-ahead for a caller still in a conversation). */
  async resolve(source: string, customerId: string, fetch: SourceFetch, deadline: Deadline, aheadMs = 0): Promise<Resolution> {
    const epoch = this.near.epoch(customerId);
    const near = this.near.get(source, customerId, Date.now());
    if (this.freshNear(near, aheadMs)) return this.nearHit(source, near);
    const { parts, generation } = await this.read(customerId, source);
    const cached = this.reconcile(source, customerId, parts.get(source), near, generation, epoch);
    const started = Date.now();
    if (cached && this.store.isFresh(cached, started + aheadMs)) {
      this.metrics.cacheLookup('source', 'hit');
      return { outcome: 'answered', entry: cached, cache: 'hit', latencyMs: 0 };
    }
    this.metrics.cacheLookup('source', 'miss');
    let flight: Flight | undefined;
    try {
      flight = await Promise.race([this.call(source, customerId, fetch, generation, epoch, aheadMs), deadline.reached.then(() => undefined)]);
    } catch (err) {
      const kind = kindOf(err);
      if (kind === undefined) this.logger.error({ msg: 'source call failed unexpectedly', source, err });
      return this.unanswered(cached, kind ?? 'unavailable', Date.now() - started);
    }
    if (!flight) return this.unanswered(cached, 'timeout', Date.now() - started);
    return { outcome: 'answered', entry: flight.entry, cache: flight.via, latencyMs: Date.now() - started };
  }

  /**
   * Every one of `sources` for a customer as `resolve` would answer it now from the near tier
   * (fresh and linked: a hit), without waiting; undefined, and nothing counted, unless all are.
   * The common cache hit, taken without a promise per source.
   */
  nearHits(sources: readonly string[], customerId: string, aheadMs = 0): Answered[] | undefined {
    const kept: NearEntry[] = [];
    for (const source of sources) {
      const near = this.near.get(source, customerId, Date.now());
      if (!this.freshNear(near, aheadMs)) return undefined;
      kept.push(near);
    }
    return kept.map((near, i) => this.nearHit(sources[i], near));
  }

  private freshNear(near: NearEntry | undefined, aheadMs: number): near is NearEntry {
    return near !== undefined && this.near.linked(near) && this.store.isFresh(near.entry, Date.now() + aheadMs);
  }

  private nearHit(source: string, near: NearEntry): Answered {
    this.metrics.nearHit(source);
    this.metrics.cacheLookup('source', 'hit');
    return { outcome: 'answered', entry: near.entry, cache: 'hit', latencyMs: 0 };
  }

  /**
   * Forgets everything known about a customer, on every replica: the cached parts (a new
   * generation, so calls running now cannot write theirs back), and this process's running calls
   * (new requests start fresh ones instead of joining old ones). Throws InvalidationDeferred when
   * Redis cannot take it now (it is retried in the background).
   */
  async invalidate(customerId: string, sources: string[]): Promise<void> {
    for (const source of sources) this.inflight.delete(flightKey(source, customerId));
    this.forgetReads(customerId);
    this.near.invalidate(customerId, sources); // here at once, even when Redis defers it
    await this.store.invalidate(customerId, sources, this.budgetMs);
    // the others re-read Redis when told, so only once Redis has it (a deferred one is told when applied)
    await this.near.announceInvalidation(customerId, sources);
  }

  /**
   * The copy that stands, from what Redis gave (`remote`) and what this process keeps (`near`):
   * - Redis could not be read: the near copy (Redis away is what it is kept for);
   * - Redis has one: the newer of the two (a near copy only if no change can have been missed since
   *   it was kept: linked, or kept under the generation Redis shows now), kept near;
   * - Redis has none: the near copy if no invalidation can have been missed (see `sameGeneration`:
   *   Redis came back empty, or dropped the key) — and Redis gets it back, so the other replicas have it too;
   *   otherwise the customer was invalidated meanwhile: the near copy goes.
   */
  private reconcile(source: string, customerId: string, remote: CachedSource | undefined, near: NearEntry | undefined, generation: Generation, epoch: number): CachedSource | undefined {
    if (!this.near.enabled) return remote;
    if (generation === null) return remote ?? near?.entry;
    // nothing can have been missed when Redis knows of no invalidation (never, or it came back empty:
    // one made meanwhile would show as a new generation), when the part was kept under the current
    // one, or when the current one is this replica's own (kept parts are younger than it: the epoch)
    const sameGeneration = near !== undefined && (generation === NEVER_INVALIDATED || near.generation === generation || this.near.isOwnInvalidation(customerId, generation));
    const confirmed = near !== undefined && (this.near.linked(near) || sameGeneration);
    if (remote && (!near || !confirmed || remote.fetchedAt >= near.entry.fetchedAt)) {
      this.near.set(source, customerId, remote, generation, epoch);
      return remote;
    }
    if (!near) return undefined;
    if (!remote && !sameGeneration) {
      this.near.drop(source, customerId, near.entry); // invalidated meanwhile
      return undefined;
    }
    this.near.set(source, customerId, near.entry, generation, epoch); // confirmed: linked again
    if (!remote) void this.write(customerId, source, near.entry, generation, epoch, false);
    return near.entry;
  }

  /** Reads started before a change are not joined after it (a request then reads anew). */
  private forgetReads(customerId: string): void {
    this.reads.delete(customerId);
    this.sentReads.delete(customerId);
  }

  /** Resolves once every call running now (late ones included) has settled and its write is done. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0 || this.writes.size > 0) await Promise.allSettled([...this.running, ...this.writes]);
  }

  onApplicationShutdown(): void {
    this.shutdown.abort();
  }

  /** The customer's cached parts and generation; every source asked for in this turn shares one round trip. */
  private read(customerId: string, source: string): Promise<CachedParts> {
    // a read already on its way that covers this source is joined (a stampede on one customer then
    // costs a handful of round trips per process, not one per request, and the lock's SET is not
    // queued behind hundreds of reads on a busy connection)
    const sent = this.sentReads.get(customerId);
    if (sent?.sources.has(source)) return sent.parts;
    let pending = this.reads.get(customerId);
    if (!pending) {
      const sources = new Set<string>();
      const batch = { sources, parts: undefined as unknown as Promise<CachedParts> };
      batch.parts = Promise.resolve().then(() => {
        if (this.reads.get(customerId) === batch) this.reads.delete(customerId);
        this.sentReads.set(customerId, batch);
        const parts = this.store.getAll(customerId, [...sources]);
        const done = () => {
          if (this.sentReads.get(customerId) === batch) this.sentReads.delete(customerId);
        };
        parts.then(done, done);
        return parts;
      });
      pending = batch;
      this.reads.set(customerId, pending);
    }
    pending.sources.add(source);
    return pending.parts;
  }

  /** One live call per source and customer at a time in this process: later requests join the running one. */
  private call(source: string, customerId: string, fetch: SourceFetch, generation: Generation, epoch: number, aheadMs: number): Promise<Flight> {
    const key = flightKey(source, customerId);
    const joined = this.inflight.get(key);
    if (joined) return joined;
    const flight = this.singleFlight(source, customerId, fetch, generation, epoch, aheadMs);
    this.inflight.set(key, flight);
    this.running.add(flight);
    const done = () => {
      this.running.delete(flight);
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    };
    // the request may have stopped waiting (deadline); a late failure is then only counted
    flight.then(done, done);
    return flight;
  }

  /** Across replicas: the lock holder calls, the others wait for its result (bounded by the budget). */
  private async singleFlight(source: string, customerId: string, fetch: SourceFetch, generation: Generation, epoch: number, aheadMs: number): Promise<Flight> {
    const kept = (entry: CachedSource): Flight => {
      this.near.set(source, customerId, entry, generation, epoch);
      return { entry, via: 'wait' };
    };
    // a lock answer slower than CACHE_OP_TIMEOUT_MS is not awaited longer (LOCK_PATIENCE_MS): measured
    // under CPU pressure (bench stampede), waiting half the answer time saved one call per endpoint
    // but cost five times the failed answers; see README "Single-flight"
    // a part another replica landed since our read is served instead of a call only if it stays
    // fresh for what this caller asked (refresh-ahead asks for more than a plain look-up)
    const lease = await this.lock.acquire(customerId, source, this.budgetMs, LOCK_PATIENCE_MS, aheadMs);
    if (lease !== 'held-elsewhere') {
      try {
        // the answer need not wait for the cache write; replicas waiting on the lock do (the write hands the lock over)
        const { entry } = await this.fetchAndStore(source, customerId, fetch, generation, epoch, lease);
        return { entry, via: 'miss' };
      } catch (err) {
        void lease.release(kindOf(err) ?? 'unavailable');
        throw err;
      }
    }
    // another replica is calling, or its answer landed since our read: wait for it (subscribe first, then look, so nothing is missed)
    this.metrics.cacheLockWaits.inc({ source });
    const waiter = await this.lock.subscribe(customerId, source);
    let timer: NodeJS.Timeout | undefined;
    try {
      const already = await this.store.read(customerId, source);
      // the cache cannot be read: the holder's result could not be seen either, so call ourselves
      if (already === 'unavailable') return { entry: (await this.fetchAndStore(source, customerId, fetch, generation, epoch)).entry, via: 'miss' };
      if (already && this.store.isFresh(already, Date.now())) return kept(already);
      const outcome = await Promise.race([waiter.landed, new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), this.budgetMs)))]);
      const landed = await this.store.get(customerId, source);
      if (landed && this.store.isFresh(landed, Date.now())) return kept(landed);
      if (outcome !== 'ok' && outcome !== 'unknown') throw new FailedElsewhere(outcome);
      // the holder said ok but nothing fresh is there (its write failed, or the customer was invalidated), or pub/sub is down
      return { entry: (await this.fetchAndStore(source, customerId, fetch, generation, epoch)).entry, via: 'miss' };
    } finally {
      clearTimeout(timer);
      waiter.cancel();
    }
  }

  /**
   * Calls the source with a deadline of its own (it may serve several requests): waits and retries
   * fit the answer time from now; the signal cuts the call at the end of the late budget, or at
   * shutdown. Resolves with the entry as soon as the source answers, and `stored` once it is cached.
   */
  private async fetchAndStore(source: string, customerId: string, fetch: SourceFetch, generation: Generation, epoch: number, lease?: Lease): Promise<{ entry: CachedSource; stored: Promise<void> }> {
    const now = Date.now();
    const deadline = new Deadline(now + this.budget.answerMs, { cancelAt: now + this.budgetMs, parent: this.shutdown.signal });
    try {
      const result = await fetch(deadline);
      const fetchedAt = Date.now();
      const entry: CachedSource = result.found ? { found: true, data: result.data, fetchedAt } : { found: false, fetchedAt };
      this.near.set(source, customerId, entry, generation, epoch);
      return { entry, stored: this.write(customerId, source, entry, generation, epoch, true, lease) };
    } finally {
      deadline.dispose();
    }
  }

  /**
   * The late write: it runs on whether or not anyone still waits for the answer. With the call's
   * `lease` it also releases the lock (in the same round trip when it can, else just after).
   */
  private write(customerId: string, source: string, entry: CachedSource, generation: Generation, epoch: number, announce: boolean, lease?: Lease): Promise<void> {
    const handOver = lease?.token === undefined ? undefined : { token: lease.token, message: 'ok' };
    const write = this.store.land(customerId, source, entry, generation, handOver).then(async ({ outcome, released }) => {
      if (lease && !released) await lease.release('ok');
      // the customer changed since the read: that change wins here too
      if (outcome === 'superseded') this.near.drop(source, customerId, entry);
      else if (outcome === 'written' && announce && this.near.epoch(customerId) === epoch) await this.near.announceWrite(source, customerId, entry);
    });
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
    return write;
  }

  private unanswered(cached: CachedSource | undefined, reason: string, latencyMs: number): Unanswered {
    if (!cached) return { outcome: 'failed', reason, latencyMs };
    this.metrics.cacheLookup('source', 'stale');
    return { outcome: 'failed', reason, latencyMs, stale: cached };
  }
}

/** A failure's kind as answers and waiting replicas name it; undefined for an error without one (a bug somewhere below). */
function kindOf(err: unknown): string | undefined {
  const kind = (err as { kind?: unknown } | null | undefined)?.kind;
  return typeof kind === 'string' ? kind : undefined;
}

function flightKey(source: string, customerId: string): string {
  return `${source}\u0000${customerId}`;
}
