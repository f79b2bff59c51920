import { createHash, timingSafeEqual } from 'node:crypto';

import { Controller, Get, Global, Header, Headers, Injectable, Module, NotFoundException, Optional, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { ServerConfig } from '../config/server.config.js';
import { InvalidSignatureException } from './invalid-signature.exception.js';

/** Latency buckets (seconds) for a screen pop: fine below 100 ms, then up to past any deadline. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5];

/** Outcome label of one CRM call, from a connector error kind (or ok). */
export type CallOutcome = 'ok' | 'not_found' | 'timeout' | 'rate_limited' | 'circuit_open' | 'error';

export function callOutcome(kind: string | undefined): CallOutcome {
  switch (kind) {
    case undefined:
      return 'ok';
    case 'not_found':
    case 'timeout':
    case 'rate_limited':
    case 'circuit_open':
      return kind;
    default:
      return 'error';
  }
}

/** One latency series of the HTTP histogram. */
export interface HttpObserver {
  observe(seconds: number): void;
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2, isolated: 3 } as const;

/**
 * Counts of a counter with one or two labels, taken on the request path and added to the counter
 * when it is read (a scrape, `get()`): prom-client hashes and validates the label object on every
 * `inc`, several times per cache hit; here a count is one look-up by the label values.
 */
export class Tally {
  private readonly pending = new Map<string, Map<string, number>>();

  constructor(
    private readonly first: string,
    private readonly second?: string,
  ) {}

  add(a: string, b = ''): void {
    let inner = this.pending.get(a);
    if (inner === undefined) this.pending.set(a, (inner = new Map()));
    inner.set(b, (inner.get(b) ?? 0) + 1);
  }

  /** Adds what was counted since the last flush to `counter`. */
  flush<L extends string>(counter: Counter<L>): void {
    for (const [a, inner] of this.pending) {
      for (const [b, n] of inner) {
        if (n === 0) continue;
        inner.set(b, 0);
        const labels = this.second === undefined ? { [this.first]: a } : { [this.first]: a, [this.second]: b };
        counter.inc(labels as Partial<Record<L, string>>, n);
      }
    }
  }
}

/** The service's Prometheus metrics (one registry per app instance, so tests and replicas never mix). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly breakerState = new Gauge({ name: 'c360_breaker_state', help: 'Circuit breaker per CRM: 0 closed, 1 half-open, 2 open', labelNames: ['source'], registers: [this.registry] });
  readonly breakerTransitions = new Counter({ name: 'c360_breaker_transitions_total', help: 'Breaker state changes per CRM', labelNames: ['source', 'to'], registers: [this.registry] });
  readonly rateLimitWaits = new Counter({ name: 'c360_rate_limit_waits_total', help: 'Calls that waited for an outbound rate-limit slot', labelNames: ['source'], registers: [this.registry] });
  readonly rateLimitRefusals = new Counter({ name: 'c360_rate_limit_refusals_total', help: 'Calls refused by the outbound rate limit (source marked rate_limited)', labelNames: ['source'], registers: [this.registry] });
  readonly rateLimitLateSlots = new Counter({ name: 'c360_rate_limit_late_slots_total', help: 'Rate-limit slots given up because this process woke too late to call in the window they were charged to (a busy process); the call took the next free slot', labelNames: ['source'], registers: [this.registry] });
  readonly rateLimitFallbacks = new Counter({ name: 'c360_rate_limit_local_fallbacks_total', help: 'Times the shared limit fell back to the per-process share (Redis unavailable)', labelNames: ['source'], registers: [this.registry] });

  readonly httpDuration = new Histogram({ name: 'c360_http_request_duration_seconds', help: 'Inbound request latency by route template, method and status code', labelNames: ['method', 'route', 'code'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  /** Requests being served now: counted here, set into the gauge when it is read. */
  private inFlight = 0;
  readonly httpInFlight: Gauge = new Gauge({ name: 'c360_http_requests_in_flight', help: 'Inbound requests being served now', registers: [this.registry], collect: () => this.httpInFlight.set(this.inFlight) });
  readonly crmCallDuration = new Histogram({ name: 'c360_crm_call_duration_seconds', help: 'One call to an external system (retries and rate-limit waits included) by outcome', labelNames: ['source', 'outcome'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  // counted per source on every answer (see Tally): read through get() or a scrape
  private readonly sourceTally = new Tally('source', 'status');
  private readonly lookupTally = new Tally('cache', 'result');
  private readonly nearHitTally = new Tally('source');
  readonly sourceResults: Counter<'source' | 'status'> = new Counter({ name: 'c360_source_results_total', help: 'Per-source status in the answers given (ok, stale, timeout, unavailable, …)', labelNames: ['source', 'status'], registers: [this.registry], collect: () => this.sourceTally.flush(this.sourceResults) });
  readonly cacheLookups: Counter<'cache' | 'result'> = new Counter({ name: 'c360_cache_lookups_total', help: 'Cache reads by cache and result: hit (fresh), miss, stale (kept copy served because the source failed)', labelNames: ['cache', 'result'], registers: [this.registry], collect: () => this.lookupTally.flush(this.cacheLookups) });
  readonly cacheLockWaits = new Counter({ name: 'c360_cache_lock_waits_total', help: 'Source calls that waited for another replica already calling for the same customer (stampede protection)', labelNames: ['source'], registers: [this.registry] });
  readonly cacheRefreshAhead = new Counter({ name: 'c360_cache_refresh_ahead_total', help: 'Parts fetched again in the background because they were read within CACHE_REFRESH_AHEAD_PERCENT of going stale, by result: called (this replica fetched it), joined (a refresh already running here or on another replica, or landed meanwhile), failed (no spare rate-limit slot, the source down: the next read may try again)', labelNames: ['source', 'result'], registers: [this.registry] });
  readonly cacheErrors = new Counter({ name: 'c360_cache_errors_total', help: 'Redis cache operations that failed or timed out (served without cache)', labelNames: ['operation'], registers: [this.registry] });
  readonly nearHits: Counter<'source'> = new Counter({ name: 'c360_near_cache_hits_total', help: 'Source parts served fresh from the near (in-process) cache, without a Redis round trip', labelNames: ['source'], registers: [this.registry], collect: () => this.nearHitTally.flush(this.nearHits) });
  readonly nearEvictions = new Counter({ name: 'c360_near_cache_evictions_total', help: 'Near-cache entries pushed out by its bounds (NEAR_CACHE_MAX_ENTRIES, NEAR_CACHE_MAX_BYTES)', registers: [this.registry] });
  readonly nearInvalidations = new Counter({ name: 'c360_near_cache_invalidations_total', help: 'Near-cache drops by cause: invalidation (webhook, billing write) or write (a newer part stored), and origin (this replica or another, via Redis pub/sub)', labelNames: ['cause', 'origin'], registers: [this.registry] });
  readonly nearEntries = new Gauge({ name: 'c360_near_cache_entries', help: 'Source parts held in the near cache of this process', registers: [this.registry] });
  readonly nearBytes = new Gauge({ name: 'c360_near_cache_bytes', help: 'Bytes of source parts (as JSON) held in the near cache of this process', registers: [this.registry] });
  readonly batchHeldShortOfCpu = new Counter({ name: 'c360_batch_held_short_of_cpu_total', help: 'Batches of look-ups of a CRM that waited for the call in flight instead of starting one more, because the process was short of CPU (BATCH_BUSY_LOOP_PERCENT)', labelNames: ['source'], registers: [this.registry] });
  readonly batchCustomers = new Histogram({ name: 'c360_batch_customers', help: 'Customers carried by one batched look-up of a CRM (customers per call)', labelNames: ['source'], buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500], registers: [this.registry] });
  readonly tokenRefreshes = new Counter({ name: 'c360_token_refreshes_total', help: 'OAuth access tokens fetched from an external system, by outcome', labelNames: ['system', 'outcome'], registers: [this.registry] });

  /** httpDuration's children by route, method and status code: labels are resolved once per series, not per request. */
  private readonly httpChildren = new Map<string, Map<string, Map<number, HttpObserver>>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'c360_' });
  }

  /** The latency series of one route, method and status code (created on first use, then reused). */
  httpRequest(method: string, route: string, code: number): HttpObserver {
    let byMethod = this.httpChildren.get(route);
    if (byMethod === undefined) this.httpChildren.set(route, (byMethod = new Map()));
    let byCode = byMethod.get(method);
    if (byCode === undefined) byMethod.set(method, (byCode = new Map()));
    let child = byCode.get(code);
    if (child === undefined) byCode.set(code, (child = this.httpDuration.labels(method, route, String(code))));
    return child;
  }

  /** A request came in (c360_http_requests_in_flight). */
  requestStarted(): void {
    this.inFlight++;
  }

  /** A request was answered or aborted. */
  requestEnded(): void {
    this.inFlight--;
  }

  /** One source's status in an answer given (c360_source_results_total). */
  sourceResult(source: string, status: string): void {
    this.sourceTally.add(source, status);
  }

  /** One cache read's result (c360_cache_lookups_total). */
  cacheLookup(cache: string, result: string): void {
    this.lookupTally.add(cache, result);
  }

  /** One source part served fresh from the near cache (c360_near_cache_hits_total). */
  nearHit(source: string): void {
    this.nearHitTally.add(source);
  }

  breaker(source: string, to: keyof typeof BREAKER_VALUE): void {
    this.breakerState.set({ source }, BREAKER_VALUE[to]);
    this.breakerTransitions.inc({ source, to });
  }
}

/** Constant-time comparison of two secrets (their digests, so neither content nor length shows in the timing). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * /metrics on the public port (PORT). It tells the Node version, route counters and breaker
 * states, so it is served here only to a scraper presenting METRICS_TOKEN (constant-time), else a
 * plain 401; without METRICS_TOKEN it is not served here at all (404). The management port
 * (MANAGEMENT_PORT, kept off the ingress) always serves it without credentials. Throttled per
 * client like every public route.
 */
@ApiExcludeController()
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    // optional: modules assembled without the configuration (tests of one module) serve no /metrics here
    @Optional() private readonly server?: ServerConfig,
  ) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  scrape(@Headers('authorization') authorization: string | undefined): Promise<string> {
    const token = this.server?.metricsToken;
    if (!token) throw new NotFoundException();
    const presented = typeof authorization === 'string' && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : '';
    if (!sameSecret(presented, token)) throw new InvalidSignatureException();
    return this.metrics.registry.metrics();
  }
}

@Global()
@Module({ controllers: [MetricsController], providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
