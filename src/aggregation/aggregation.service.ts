import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

import { ReplicaLock } from '../cache/replica-lock.js';
import { type CachedSource, type Generation,SourceCache } from '../cache/source-cache.js';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { setDeadline } from '../resilience/deadline.js';
import { dueAfterPendingIo } from '../upstream/timers.js';
import { isUpstreamError, UpstreamError, type UpstreamErrorKind } from '../upstream/upstream-error.js';
import { AggregationConfig } from './aggregation.config.js';
import type { Customer360, SourceState, SourceStatus } from './customer360.schema.js';
import { mergeProfile, type SourceOutcome,verdict } from './merge.js';

export type ProfileResult = { verdict: 'found'; view: Customer360 } | { verdict: 'not_found' | 'unavailable'; view: Customer360 };

const DEADLINE = Symbol('deadline');

/**
 * Fans one profile request out to every connector concurrently, waits no longer than the
 * deadline, and merges what arrived. Per source: fresh cache → use it; else call (one call per
 * source and customer at a time in this process); on failure or timeout → the stale copy if
 * one is kept, marked. A call that misses the deadline may run on (bounded) to warm the cache.
 */
@Injectable()
export class AggregationService implements OnApplicationShutdown {
  private readonly logger = new Logger(AggregationService.name);
  private readonly inflight = new Map<string, Promise<CachedSource>>();
  private readonly controllers = new Set<AbortController>();
  /** Cache writes still running (answers do not wait for them). */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    @Inject(CONNECTORS) private readonly connectors: CustomerConnector[],
    private readonly cache: SourceCache,
    private readonly config: AggregationConfig,
    private readonly lock: ReplicaLock,
    private readonly metrics: Metrics,
  ) {}

  get sourceNames(): string[] {
    return this.connectors.map((c) => c.source);
  }

  /** A new deadline (epoch ms) for a request starting now. */
  deadline(): number {
    return Date.now() + this.config.deadlineMs;
  }

  async getProfile(customerId: string, deadlineAt: number = this.deadline()): Promise<ProfileResult> {
    const { parts, generation } = await this.cache.getAll(customerId, this.connectors.filter((c) => c.enabled).map((c) => c.source));
    const outcomes = await this.withDeadline(deadlineAt, (deadline) =>
      Promise.all(this.connectors.map((c) => this.resolve(c, customerId, parts.get(c.source), generation, deadline))),
    );
    for (const o of outcomes) this.metrics.sourceResults.inc({ source: o.source, status: o.state.status });
    const view = mergeProfile(customerId, outcomes, new Date());
    return { verdict: verdict(outcomes), view };
  }

  /** Number of source calls still running (including late ones warming the cache). */
  get pendingCalls(): number {
    return this.inflight.size;
  }

  /**
   * Forgets everything known about a customer, on every replica: the cached parts, and this
   * process's running calls (new requests start fresh ones instead of joining old ones).
   */
  async invalidate(customerId: string): Promise<void> {
    for (const c of this.connectors) this.inflight.delete(`${c.source}\u0000${customerId}`);
    await this.cache.invalidate(customerId, this.sourceNames, this.budgetMs);
  }

  /** Resolves once every source call running now (including late ones) has settled. */
  async whenIdle(): Promise<void> {
    while (this.inflight.size > 0 || this.writes.size > 0) await Promise.allSettled([...this.inflight.values(), ...this.writes]);
  }

  onApplicationShutdown(): void {
    for (const controller of this.controllers) controller.abort();
  }

  private async withDeadline<T>(deadlineAt: number, run: (deadline: Promise<typeof DEADLINE>) => Promise<T>): Promise<T> {
    let cancel: (() => void) | undefined;
    // an answer already in a socket when the deadline comes due still counts as in time
    const deadline = new Promise<typeof DEADLINE>((resolve) => {
      cancel = dueAfterPendingIo(Math.max(0, deadlineAt - Date.now()), () => resolve(DEADLINE));
    });
    try {
      return await run(deadline);
    } finally {
      cancel?.();
    }
  }

  private async resolve(connector: CustomerConnector, customerId: string, cached: CachedSource | undefined, generation: Generation, deadline: Promise<typeof DEADLINE>): Promise<SourceOutcome> {
    const source = connector.source;
    if (!connector.enabled) return { source, state: { status: 'disabled' } };
    const now = Date.now();
    if (cached && this.cache.isFresh(cached, now)) {
      this.metrics.cacheLookups.inc({ cache: 'source', result: 'hit' });
      return this.fromEntry(source, cached, 0, 'hit');
    }
    this.metrics.cacheLookups.inc({ cache: 'source', result: 'miss' });

    const started = now;
    let result: CachedSource | typeof DEADLINE;
    try {
      result = await Promise.race([this.call(connector, customerId, generation), deadline]);
    } catch (err) {
      const latencyMs = Date.now() - started;
      const reason = isUpstreamError(err) ? err.kind : 'unavailable';
      if (!isUpstreamError(err)) this.logger.error({ msg: 'connector failed unexpectedly', source, err });
      return this.failed(source, cached, statusFor(reason), reason, latencyMs);
    }
    const latencyMs = Date.now() - started;
    if (result === DEADLINE) return this.failed(source, cached, 'timeout', 'timeout', latencyMs);
    return this.fromEntry(source, result, latencyMs, result.viaReplica ? 'wait' : 'miss');
  }

  /**
   * One live call per source and customer at a time: within this process (shared promise) and
   * across replicas (Redis lock; the others wait for the holder's result). The result is cached
   * when it lands, even after the request's deadline, within the late-completion budget.
   */
  private call(connector: CustomerConnector, customerId: string, generation: Generation): Promise<CachedSource> {
    const key = `${connector.source}\u0000${customerId}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const promise = this.singleFlight(connector, customerId, generation).finally(() => this.inflight.delete(key));
    // the request may have stopped waiting (deadline); a late failure is then only logged
    promise.catch(() => undefined);
    this.inflight.set(key, promise);
    return promise;
  }

  private get budgetMs(): number {
    return this.config.deadlineMs + this.config.lateCompletionMs;
  }

  private async singleFlight(connector: CustomerConnector, customerId: string, generation: Generation): Promise<CachedSource> {
    const name = `${connector.source}:${customerId}`;
    const lease = await this.lock.acquire(name, this.budgetMs);
    if (lease !== 'held-elsewhere') {
      try {
        const { entry, stored } = await this.fetchAndStore(connector, customerId, generation);
        // the answer need not wait for the cache write; replicas waiting on the lock do
        void stored.then(() => lease.release('ok'));
        return entry;
      } catch (err) {
        void lease.release(isUpstreamError(err) ? err.kind : 'unavailable');
        throw err;
      }
    }
    // another replica is calling: wait for it (subscribe first, then look, so nothing is missed)
    this.metrics.cacheLockWaits.inc({ source: connector.source });
    const waiter = await this.lock.subscribe(name);
    let timer: NodeJS.Timeout | undefined;
    try {
      const already = await this.cache.read(customerId, connector.source);
      // the cache cannot be read: the holder's result could not be seen either, so call ourselves
      if (already === 'unavailable') return (await this.fetchAndStore(connector, customerId, generation)).entry;
      if (already && this.cache.isFresh(already, Date.now())) return { ...already, viaReplica: true };
      const outcome = await Promise.race([waiter.landed, new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), this.budgetMs)))]);
      const landed = await this.cache.get(customerId, connector.source);
      if (landed && this.cache.isFresh(landed, Date.now())) return { ...landed, viaReplica: true };
      if (outcome !== 'ok' && outcome !== 'unknown') {
        throw new UpstreamError(connector.source, outcome as UpstreamErrorKind, 'failed on the replica that made the call');
      }
      return (await this.fetchAndStore(connector, customerId, generation)).entry; // the holder vanished or the cache is down
    } finally {
      clearTimeout(timer);
      waiter.cancel();
    }
  }

  /** Calls the source; resolves with its entry as soon as it answers, and `stored` once the entry is cached. */
  private async fetchAndStore(connector: CustomerConnector, customerId: string, generation: Generation): Promise<{ entry: CachedSource; stored: Promise<void> }> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const cutoff = setTimeout(() => controller.abort(), this.budgetMs);
    const startedAt = Date.now();
    // waits for rate-limit slots and retries must fit the answer's deadline
    setDeadline(controller.signal, startedAt + this.config.deadlineMs);
    try {
      const result = await connector.fetch(customerId, controller.signal);
      const entry: CachedSource = result.found ? { found: true, data: result.data, fetchedAt: Date.now() } : { found: false, fetchedAt: Date.now() };
      const stored = this.store(customerId, connector.source, entry, generation);
      return { entry, stored };
    } finally {
      clearTimeout(cutoff);
      this.controllers.delete(controller);
    }
  }

  /** Caches an entry unless the customer changed while it was being fetched (that write wins: our data may predate it). */
  private store(customerId: string, source: string, entry: CachedSource, generation: Generation): Promise<void> {
    const write = this.cache.put(customerId, source, entry, generation);
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
    return write;
  }

  /** A source's answer, live or cached: its status is what the source said (found or not), wherever the entry came from. */
  private fromEntry(source: string, entry: CachedSource, latencyMs: number, cache: 'hit' | 'miss' | 'wait'): SourceOutcome {
    const status: SourceStatus = entry.found ? 'ok' : 'not_found';
    this.logger.debug({ msg: 'source resolved', source, status, cache, latencyMs });
    const state: SourceState = { status, fetchedAt: new Date(entry.fetchedAt).toISOString(), latencyMs, cache };
    return entry.found ? { source, state, data: entry.data } : { source, state };
  }

  /**
   * The source could not answer now: the copy kept from its last answer (within the grace period)
   * stands in, marked with its age and why: `stale` data, or `not_found` when the source last said
   * it does not know the customer. Without a copy, the failure itself.
   */
  private failed(source: string, cached: CachedSource | undefined, status: SourceStatus, reason: string, latencyMs: number): SourceOutcome {
    if (cached) {
      this.metrics.cacheLookups.inc({ cache: 'source', result: 'stale' });
      const ageMs = Date.now() - cached.fetchedAt;
      this.logger.debug({ msg: 'serving the last answer', source, reason, ageMs, found: cached.found });
      const state: SourceState = { status: cached.found ? 'stale' : 'not_found', fetchedAt: new Date(cached.fetchedAt).toISOString(), ageMs, latencyMs, reason };
      return cached.found ? { source, state, data: cached.data } : { source, state };
    }
    return { source, state: { status, latencyMs, reason } };
  }
}

function statusFor(kind: string): SourceStatus {
  switch (kind) {
    case 'timeout':
      return 'timeout';
    case 'rate_limited':
      return 'rate_limited';
    case 'not_found':
      return 'not_found';
    default:
      return 'unavailable';
  }
}
