import { Inject, Injectable, Logger } from '@nestjs/common';

import { type Answered, ProfileCache, type Resolution } from '../cache/profile-cache.js';
import type { CachedSource } from '../cache/source-cache.js';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { traceResolution, tracingActive } from '../observability/tracing-spans.js';
import { refreshAheadMs } from '../resilience/background.js';
import { Deadline } from '../upstream/deadline.js';
import { AggregationConfig } from './aggregation.config.js';
import type { Customer360, SourceState, SourceStatus } from './customer360.schema.js';
import { mergeProfile, type SourceOutcome, verdict } from './merge.js';
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

  constructor(
    @Inject(CONNECTORS) private readonly connectors: CustomerConnector[],
    private readonly cache: ProfileCache,
    private readonly config: AggregationConfig,
    private readonly metrics: Metrics,
    private readonly batches: SourceBatches,
  ) {}

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
    if (kept) return this.answer(customerId, kept);
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
   * Every source's part when the near cache has all of them fresh (what `part` would give), else
   * undefined. Not while tracing: each resolution is a span then.
   */
  private keptParts(customerId: string): SourceOutcome[] | undefined {
    if (tracingActive()) return undefined;
    const enabled = this.connectors.filter((c) => c.enabled).map((c) => c.source);
    const hits = this.cache.nearHits(enabled, customerId, refreshAheadMs());
    if (!hits) return undefined;
    const now = Date.now();
    let next = 0;
    return this.connectors.map((c) => (c.enabled ? this.outcome(c.source, hits[next++], now) : { source: c.source, state: { status: 'disabled' } }));
  }

  /** Forgets everything known about a customer, on every replica (see ProfileCache.invalidate). */
  invalidate(customerId: string): Promise<void> {
    return this.cache.invalidate(customerId, this.sourceNames);
  }

  /** Resolves once every source call running now (late ones included) has settled and been cached. */
  whenIdle(): Promise<void> {
    return this.cache.whenIdle();
  }

  private async part(connector: CustomerConnector, customerId: string, deadline: Deadline): Promise<SourceOutcome> {
    const source = connector.source;
    if (!connector.enabled) return { source, state: { status: 'disabled' } };
    // work that refreshes ahead (a caller still in a conversation) treats a part about to go stale as due
    const resolution = await this.cache.resolve(source, customerId, (d) => this.batches.fetch(connector, customerId, d.signal), deadline, refreshAheadMs());
    return this.outcome(source, resolution, Date.now());
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
