import { Inject, Injectable, Logger } from '@nestjs/common';

import { CacheConfig } from '../cache/cache.config.js';
import { type Answered, ProfileCache, type Resolution } from '../cache/profile-cache.js';
import type { CachedSource } from '../cache/source-cache.js';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { shareAnswer } from '../observability/shared-answer.js';
import { traceResolution, tracingActive } from '../observability/tracing-spans.js';
import { refreshAheadMs } from '../resilience/background.js';
import { Deadline } from '../upstream/deadline.js';
import { AggregationConfig } from './aggregation.config.js';
import type { Customer360, SourceState, SourceStatus } from './customer360.schema.js';
import { mergeProfile, type SourceOutcome, verdict } from './merge.js';
import { RefreshAhead } from './refresh-ahead.js';
import { SourceBatches } from './source-batches.js';

export type ProfileResult = { verdict: 'found'; view: Customer360 } | { verdict: 'not_found' | 'unavailable'; view: Customer360 };

/**
 * Fans one profile request out to every connector at once, under one deadline, and merges what
 * each source gave. How a source's part is found (cache tiers, single-flight, stale copies, the
 * late write) is the cache's business: `ProfileCache.resolve`.
 */
@Injectable()
export class AggregationService {
  private readonly logger = new Logger(AggregationService.name);
  /** Answers assembled from fresh parts, by the first enabled part's outcome (see `assembledFrom`). */
  private readonly assembled = new WeakMap<SourceOutcome, { customerId: string; parts: readonly SourceOutcome[]; result: ProfileResult }>();
  /** Parts read close to going stale, fetched again in the background (CACHE_REFRESH_AHEAD_PERCENT). */
  private readonly refresh: RefreshAhead;

  constructor(
    @Inject(CONNECTORS) private readonly connectors: CustomerConnector[],
    private readonly cache: ProfileCache,
    private readonly config: AggregationConfig,
    private readonly metrics: Metrics,
    private readonly batches: SourceBatches,
    cacheConfig: CacheConfig,
  ) {
    this.refresh = new RefreshAhead(cacheConfig.freshTtlMs, cacheConfig.refreshAheadPercent);
  }

  get sourceNames(): string[] {
    return this.connectors.map((c) => c.source);
  }

  /** A new answer deadline for a request starting now. */
  deadline(): Deadline {
    return Deadline.after(this.config.deadlineMs);
  }

  /** The profile by the deadline given (a new one when none is: the caller then owns nothing to dispose). */
  async getProfile(customerId: string, deadline?: Deadline): Promise<ProfileResult> {
    // most answers: every part fresh in this process, taken as it is (no deadline, no wait per source)
    const kept = this.keptParts(customerId);
    if (kept) return this.assembledFrom(customerId, kept);
    const own = deadline ?? this.deadline();
    try {
      return this.answer(customerId, await Promise.all(this.connectors.map((c) => traceResolution(c.source, () => this.part(c, customerId, own)))));
    } finally {
      if (!deadline) own.dispose();
    }
  }

  private answer(customerId: string, outcomes: SourceOutcome[]): ProfileResult {
    for (const o of outcomes) this.metrics.sourceResult(o.source, o.state.status);
    return { verdict: verdict(outcomes), view: mergeProfile(customerId, outcomes, new Date()) };
  }

  /**
   * The answer from parts all fresh in this process. A fresh part's outcome is one shared object
   * per cached entry, and entries never change once cached, so the same parts always merge into the
   * same view: it is assembled once per set of parts (frozen, shared by the requests that follow;
   * its `lastUpdated` is when it was assembled) and found again by the first enabled part, so it is
   * dropped with the entries the near cache lets go.
   */
  private assembledFrom(customerId: string, parts: SourceOutcome[]): ProfileResult {
    const first = parts.find((p) => p.state.status !== 'disabled');
    const known = first && this.assembled.get(first);
    if (known && known.customerId === customerId && known.parts.every((p, i) => p === parts[i])) {
      for (const o of parts) this.metrics.sourceResult(o.source, o.state.status);
      return known.result;
    }
    const result = freezeResult(this.answer(customerId, parts));
    if (first) this.assembled.set(first, { customerId, parts, result });
    return result;
  }

  /**
   * Every source's part when the near cache has all of them fresh (what `part` would give), else
   * undefined. Not while tracing: each resolution is a span then. No debug line per source: the
   * near cache's hit counter tells these apart.
   */
  private keptParts(customerId: string): SourceOutcome[] | undefined {
    if (tracingActive()) return undefined;
    const enabled = this.connectors.filter((c) => c.enabled).map((c) => c.source);
    const hits = this.cache.nearHits(enabled, customerId, refreshAheadMs());
    if (!hits) return undefined;
    const now = Date.now();
    let next = 0;
    return this.connectors.map((c) => {
      if (!c.enabled) return disabledOutcome(c.source);
      const hit = hits[next++];
      this.refreshIfDue(c, customerId, hit, now);
      return sourceOutcome(c.source, hit, now);
    });
  }

  /** A part answered from the cache close to going stale is fetched again in the background (see RefreshAhead); the answer does not wait. */
  private refreshIfDue(connector: CustomerConnector, customerId: string, hit: Answered, now: number): void {
    if (hit.cache !== 'hit' || !this.refresh.claim(hit.entry, now)) return;
    const source = connector.source;
    this.refresh.run(async () => {
      // nobody waits for it: its outcome is awaited for as long as the call may run (it may first wait to be batched)
      const deadline = Deadline.after(this.config.deadlineMs + this.config.lateCompletionMs);
      try {
        const resolution = await this.cache.resolve(source, customerId, (d) => this.batches.fetch(connector, customerId, d.signal), deadline, this.refresh.windowMs);
        const result = resolution.outcome === 'failed' ? 'failed' : resolution.cache === 'miss' ? 'called' : 'joined';
        this.metrics.cacheRefreshAhead.inc({ source, result });
      } finally {
        deadline.dispose();
      }
    });
  }

  /** Forgets everything known about a customer, on every replica (see ProfileCache.invalidate). */
  invalidate(customerId: string): Promise<void> {
    return this.cache.invalidate(customerId, this.sourceNames);
  }

  /** Resolves once every source call running now (late ones included) and every refresh started has settled and been cached. */
  async whenIdle(): Promise<void> {
    await this.refresh.whenIdle();
    await this.cache.whenIdle();
  }

  private async part(connector: CustomerConnector, customerId: string, deadline: Deadline): Promise<SourceOutcome> {
    const source = connector.source;
    if (!connector.enabled) return disabledOutcome(source);
    // a refresh of this part waiting to be batched goes now: this look-up may join its call
    this.batches.hurry(source, customerId);
    // work that refreshes ahead (a caller still in a conversation) treats a part about to go stale as due
    const resolution = await this.cache.resolve(source, customerId, (d) => this.batches.fetch(connector, customerId, d.signal), deadline, refreshAheadMs());
    const now = Date.now();
    if (resolution.outcome === 'answered') this.refreshIfDue(connector, customerId, resolution, now);
    return this.outcome(source, resolution, now);
  }

  private outcome(source: string, resolution: Resolution, now: number): SourceOutcome {
    const outcome = sourceOutcome(source, resolution, now);
    this.logger.debug({ msg: 'source resolved', source, status: outcome.state.status, cache: outcome.state.cache, reason: outcome.state.reason, latencyMs: outcome.state.latencyMs });
    return outcome;
  }
}

/**
 * What the answer says of one source. An entry, live or cached, has the status the source gave
 * (found or not). A failure with a kept copy shows the copy, marked with its age and why: `stale`
 * data, or `not_found` when the source last said it does not know the customer. Without a copy,
 * the failure itself.
 */
export function sourceOutcome(source: string, resolution: Resolution, now: number): SourceOutcome {
  if (resolution.outcome === 'answered') {
    // a fresh hit says the same of the same entry every time: worked out once per entry (frozen, shared)
    if (resolution.cache === 'hit' && resolution.latencyMs === 0) {
      let known = HITS.get(resolution.entry);
      if (known === undefined || known.source !== source) HITS.set(resolution.entry, (known = freeze(answeredOutcome(source, resolution))));
      return known;
    }
    return answeredOutcome(source, resolution);
  }
  const { stale, reason, latencyMs } = resolution;
  if (!stale) return { source, state: { status: statusFor(reason), latencyMs, reason } };
  const state: SourceState = { status: stale.found ? 'stale' : 'not_found', fetchedAt: new Date(stale.fetchedAt).toISOString(), ageMs: now - stale.fetchedAt, latencyMs, reason };
  return stale.found ? { source, state, data: stale.data } : { source, state };
}

/** What the answer says of a source's fresh cached entry, by entry (entries are never changed once cached). */
const HITS = new WeakMap<CachedSource, SourceOutcome>();

function answeredOutcome(source: string, { entry, cache, latencyMs }: Answered): SourceOutcome {
  const state: SourceState = { status: entry.found ? 'ok' : 'not_found', fetchedAt: new Date(entry.fetchedAt).toISOString(), latencyMs, cache };
  return entry.found ? { source, state, data: entry.data } : { source, state };
}

/** What the answer says of a source switched off (one shared object per source). */
const DISABLED = new Map<string, SourceOutcome>();
function disabledOutcome(source: string): SourceOutcome {
  let known = DISABLED.get(source);
  if (known === undefined) DISABLED.set(source, (known = freeze({ source, state: { status: 'disabled' } })));
  return known;
}

/**
 * A result shared between requests: nobody may change it (its parts' states and data are frozen or
 * never changed already), and its view, the REST answer, is serialized once (see shareAnswer).
 */
function freezeResult(result: ProfileResult): ProfileResult {
  Object.freeze(result.view.sourceSystems);
  Object.freeze(result.view.sources);
  shareAnswer(result.view);
  return Object.freeze(result);
}

function freeze(outcome: SourceOutcome): SourceOutcome {
  Object.freeze(outcome.state);
  return Object.freeze(outcome);
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
