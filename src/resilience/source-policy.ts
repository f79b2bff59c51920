import { Logger } from '@nestjs/common';
import { BrokenCircuitError, bulkhead, type BulkheadPolicy, BulkheadRejectedError, circuitBreaker, type CircuitBreakerPolicy, CircuitState, handleWhen, SamplingBreaker } from 'cockatiel';

import { type CallOutcome, callOutcome } from '../observability/metrics.js';
import { ATTR, spanEvent, withAttempt } from '../observability/tracing-spans.js';
import { deadlineOf } from '../upstream/deadline.js';
import { sleep } from '../upstream/timers.js';
import { isUpstreamError, UpstreamError, type UpstreamErrorKind } from '../upstream/upstream-error.js';
import { type BackgroundWork,backgroundWork } from './background.js';
import { takePrepaidSlot } from './prepaid-slot.js';
import type { SharedRateLimiter } from './shared-rate-limiter.js';

/** How many rate-limit windows a write may wait for its slot (see `once`). */
const WRITE_MAX_WAIT_WINDOWS = 2;

export interface SourcePolicyOptions {
  source: string;
  limiter?: SharedRateLimiter;
  breaker: { errorPercent: number; windowMs: number; minCalls: number; openMs: number };
  retry: { maxAttempts: number; baseMs: number };
  bulkhead: { maxConcurrent: number; queue: number };
  /** Told of every breaker transition (metrics). */
  onTransition?: (to: BreakerState) => void;
  /** Told of every call's outcome and duration in seconds, retries and waits included (metrics). */
  onResult?: (outcome: CallOutcome, seconds: number) => void;
}

/** Failures that say the system is unwell (not: throttling, unknown customer, our own bad request). */
const COUNTS_AGAINST_BREAKER = new Set<UpstreamErrorKind>(['timeout', 'unavailable', 'bad_response', 'auth']);

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/**
 * Everything that wraps one system's calls, outermost first: circuit breaker (fail fast while
 * open) → retries for idempotent reads (jittered exponential backoff, Retry-After honoured,
 * never past the deadline, never immediate) → bulkhead (bounded concurrency) → shared rate
 * limit → the call.
 */
export class SourcePolicy {
  private readonly logger: Logger;
  readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;

  constructor(private readonly options: SourcePolicyOptions) {
    this.logger = new Logger(`Resilience:${options.source}`);
    const b = options.breaker;
    this.breaker = circuitBreaker(
      handleWhen((err) => isUpstreamError(err) && COUNTS_AGAINST_BREAKER.has(err.kind)),
      {
        halfOpenAfter: b.openMs,
        breaker: new SamplingBreaker({
          // "opens at 50 %": SamplingBreaker opens above its threshold
          threshold: Math.max(0, b.errorPercent / 100 - 0.001),
          duration: b.windowMs,
          minimumRps: b.minCalls / (b.windowMs / 1000),
        }),
      },
    );
    this.breaker.onBreak(() => {
      this.logger.warn({ msg: 'circuit opened: calls stop, stale data is served', source: options.source, openMs: b.openMs });
      options.onTransition?.('open');
    });
    this.breaker.onHalfOpen(() => {
      this.logger.log({ msg: 'circuit half-open: one trial call', source: options.source });
      options.onTransition?.('half-open');
    });
    this.breaker.onReset(() => {
      this.logger.log({ msg: 'circuit closed: calls resume', source: options.source });
      options.onTransition?.('closed');
    });
    this.bulkhead = bulkhead(options.bulkhead.maxConcurrent, options.bulkhead.queue);
  }

  /** A call made now would wait: for a rate-limit slot, or for room in the bulkhead. Batching uses it to hold look-ups back and send them together. */
  get saturated(): boolean {
    return (this.options.limiter?.waiters ?? 0) > 0 || this.bulkhead.executionSlots === 0;
  }

  /**
   * Takes `count` rate-limit slots now, for calls that will be made later inside `withPrepaidSlot`
   * (a batch takes its slots before it closes its list of customers). Waits as `acquire` does, but up
   * to the signal's deadline; background work only takes a spare slot. Rejects as rate_limited (or
   * timeout) when none comes in time. Resolves with how many were taken (fewer than asked when a
   * window holds fewer); 0 when the circuit is open (the call will most likely be refused; if it is
   * let through as a trial meanwhile, it takes its own).
   */
  async reserveSlot(signal: AbortSignal, background?: BackgroundWork, count = 1): Promise<number> {
    if (this.breaker.state === CircuitState.Open) return 0;
    // a batch's wait for its slot is what gathers the callers who come meanwhile: it may last to the
    // batch's deadline (RATE_LIMIT_MAX_WAIT_MS bounds a single call's wait, not a batch's)
    return (await this.options.limiter?.acquire(signal, background, Number.POSITIVE_INFINITY, count)) ?? count;
  }

  get state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Isolated:
        return 'isolated';
    }
  }

  async execute<T>(call: () => Promise<T>, signal: AbortSignal | undefined, idempotent: boolean): Promise<T> {
    const started = performance.now();
    try {
      const result = await this.breaker.execute(() => this.withRetries(call, signal, idempotent));
      this.options.onResult?.('ok', (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      if (err instanceof BrokenCircuitError) spanEvent('breaker refused the call', { [ATTR.source]: this.options.source, [ATTR.breakerState]: this.state });
      const failure = err instanceof BrokenCircuitError ? new UpstreamError(this.options.source, 'circuit_open', 'circuit open') : err;
      this.options.onResult?.(callOutcome(isUpstreamError(failure) ? failure.kind : 'unavailable'), (performance.now() - started) / 1000);
      throw failure;
    }
  }

  private async withRetries<T>(call: () => Promise<T>, signal: AbortSignal | undefined, idempotent: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withAttempt(this.options.source, attempt, () => this.once(call, signal, idempotent));
      } catch (err) {
        if (!isUpstreamError(err)) throw err;
        if (err.kind === 'rate_limited' && err.status !== undefined && err.retryAfterMs !== undefined) {
          await this.options.limiter?.pause(err.retryAfterMs); // the system said when: every replica waits
        }
        if (!idempotent || !err.transient || attempt >= this.options.retry.maxAttempts || signal?.aborted) throw err;
        // a refusal from our own limiter already waited as long as the deadline allows
        if (err.kind === 'rate_limited' && err.status === undefined) throw err;
        const delay = this.backoff(attempt, err);
        const deadline = deadlineOf(signal);
        if (deadline !== undefined && Date.now() + delay >= deadline) throw err;
        spanEvent('retry', { [ATTR.source]: this.options.source, [ATTR.attempt]: attempt + 1, [ATTR.delayMs]: delay, [ATTR.reason]: err.kind });
        if (!(await sleep(delay, signal))) throw err;
      }
    }
  }

  /** Full-jitter exponential backoff, or the system's Retry-After plus a little jitter; never zero. */
  private backoff(attempt: number, err: UpstreamError): number {
    if (err.retryAfterMs !== undefined) return err.retryAfterMs + Math.floor(Math.random() * 100);
    const cap = this.options.retry.baseMs * 2 ** (attempt - 1);
    return Math.max(10, Math.floor(Math.random() * cap));
  }

  private async once<T>(call: () => Promise<T>, signal: AbortSignal | undefined, idempotent: boolean): Promise<T> {
    // background work (pre-fetch) never queues for a slot live calls could use; read here, since a queued task runs in another's context
    const background = backgroundWork();
    const prepaid = takePrepaidSlot();
    // a batch's further calls (the second read, a split, the next page) wait as long as the batch
    // may; a write (an agent's change, a call placed) waits for its slot up to two windows, within
    // its own deadline, rather than being refused because this second is taken (or, Redis just
    // lost, not known: see SharedRateLimiter.fallBack)
    const maxWaitMs = prepaid === 'spent' ? Number.POSITIVE_INFINITY : idempotent ? undefined : WRITE_MAX_WAIT_WINDOWS * (this.options.limiter?.windowMs ?? 0);
    if (background && this.bulkhead.executionSlots <= 0) throw new UpstreamError(this.options.source, 'rate_limited', 'no free call slot for background work');
    try {
      return await this.bulkhead.execute(async () => {
        if (prepaid !== 'taken') await this.options.limiter?.acquire(signal, background, maxWaitMs);
        return call();
      }, signal);
    } catch (err) {
      if (err instanceof BulkheadRejectedError) spanEvent('bulkhead refused the call', { [ATTR.source]: this.options.source });
      if (err instanceof BulkheadRejectedError) throw new UpstreamError(this.options.source, 'rate_limited', 'too many calls in flight (bulkhead full)');
      throw err;
    }
  }
}
