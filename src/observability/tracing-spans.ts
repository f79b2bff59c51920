import { context, createContextKey, isSpanContextValid, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

/*
 * What the application code calls to describe its work in spans. Only the OpenTelemetry API is
 * imported here (a few kB, no SDK): while tracing is off (the SDK was never started) every helper
 * returns at its first line, so the request path pays one boolean test and nothing else.
 */

/** Our own attribute names (the `c360.` namespace; standard names are used wherever one exists). */
export const ATTR = {
  source: 'c360.source',
  cache: 'c360.cache',
  status: 'c360.status',
  reason: 'c360.reason',
  ageMs: 'c360.stale_age_ms',
  batchSize: 'c360.batch.size',
  attempt: 'c360.attempt',
  delayMs: 'c360.delay_ms',
  waitMs: 'c360.wait_ms',
  breakerState: 'c360.breaker.state',
} as const;

interface Active {
  tracer: Tracer;
  /** Names the inbound request's HTTP server span after its route (set by the SDK module, which knows how). */
  setRoute: (route: string) => void;
}

let active: Active | undefined;

/** Called once by the SDK start-up (tracing-sdk.ts); never while tracing is off. */
export function activateSpans(setRoute: (route: string) => void): void {
  active = { tracer: trace.getTracer('customer360'), setRoute };
}

/** For tests of the helpers. */
export function deactivateSpans(): void {
  active = undefined;
}

export function tracingActive(): boolean {
  return active !== undefined;
}

/** The external system and attempt a call is made for, as the HTTP client span reads them. */
export interface CallContext {
  source: string;
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
}

const CALL = createContextKey('c360.call');

/** Runs one attempt of a call to `source` so the HTTP spans it makes name the system and the retry. */
export function withAttempt<T>(source: string, attempt: number, fn: () => Promise<T>): Promise<T> {
  if (!active) return fn();
  return context.with(context.active().setValue(CALL, { source, attempt } satisfies CallContext), fn);
}

export function currentCall(): CallContext | undefined {
  return context.active().getValue(CALL) as CallContext | undefined;
}

/** Adds an event (a rate-limit wait, a breaker refusal, a retry) to the span active now. */
export function spanEvent(name: string, attributes?: Attributes): void {
  if (!active) return;
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/** Gives the inbound request's server span its route template (`POST /genesys/v1/customer-lookup`), never the raw path. */
export function setHttpRoute(route: string | undefined): void {
  if (active && route) active.setRoute(route);
}

/**
 * What one source's resolution came to, in the shape the aggregation returns (structural: this
 * layer knows nothing of the aggregation's types).
 */
export interface ResolvedSource {
  state: { status: string; cache?: string; reason?: string; ageMs?: number; batchSize?: number };
  batchSize?: number;
}

/** Statuses that are an answer from the source (or a decision not to ask it), not a failure. */
const ANSWERED = new Set(['ok', 'not_found', 'disabled']);

/**
 * One span per source resolution: `resolve <source>`, around the cache decision, the wait for
 * another caller and the call itself, so the HTTP and Redis spans of that source nest under it.
 * Attributes: the source, how the cache served it (`hit`, `miss`, `wait` = another replica's call,
 * `stale` = the kept copy stood in, `none` = nothing came), the status given in the answer, the
 * reason for a failure and the batch size when the call served several customers.
 */
export function traceResolution<T extends ResolvedSource>(source: string, resolve: () => Promise<T>): Promise<T> {
  if (!active) return resolve();
  return active.tracer.startActiveSpan(`resolve ${source}`, { kind: SpanKind.INTERNAL, attributes: { [ATTR.source]: source } }, async (span) => {
    try {
      const outcome = await resolve();
      describeResolution(span, outcome);
      return outcome;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'resolution failed' });
      throw err;
    } finally {
      span.end();
    }
  });
}

export function describeResolution(span: Span, outcome: ResolvedSource): void {
  const { status, cache, reason, ageMs } = outcome.state;
  const stale = ageMs !== undefined;
  span.setAttribute(ATTR.status, status);
  span.setAttribute(ATTR.cache, cache ?? (stale ? 'stale' : 'none'));
  if (reason !== undefined) span.setAttribute(ATTR.reason, reason);
  if (stale) span.setAttribute(ATTR.ageMs, ageMs);
  const batchSize = outcome.batchSize ?? outcome.state.batchSize;
  if (batchSize !== undefined) span.setAttribute(ATTR.batchSize, batchSize);
  // a stale copy or a missing source is a degraded answer: the source call failed
  if (!ANSWERED.has(status) || stale) span.setStatus({ code: SpanStatusCode.ERROR, message: reason ? `${status}: ${reason}` : status });
}

/** `trace_id`, `span_id` and `trace_flags` of the span active now (the OpenTelemetry log data model's names), for log lines. */
export function traceLogFields(): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  if (!active) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: ctx.traceFlags & TraceFlags.SAMPLED ? '01' : '00' };
}
