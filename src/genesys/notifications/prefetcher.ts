import { EventEmitter } from 'node:events';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CustomerLookupService } from '../../aggregation/customer-lookup.service.js';
import type { SourceState } from '../../aggregation/customer360.schema.js';
import { DirectoryService } from '../../aggregation/directory.service.js';
import { CacheConfig } from '../../cache/cache.config.js';
import { SourceCache } from '../../cache/source-cache.js';
import { inBackground, type BackgroundWork } from '../../resilience/background.js';
import { PREFETCHED } from './conversation-mapping.js';
import { NotificationsConfig } from './notifications.config.js';
import { NotificationMetrics } from './notifications.metrics.js';
import type { QueueConversationEvent } from './queue-event.js';

/** How one pre-fetch (or refresh) ended. */
export type PrefetchOutcome = 'ready' | 'partial' | 'deferred' | 'unknown_caller' | 'withheld';

export interface PrefetchSettled {
  conversationId: string;
  kind: 'prefetch' | 'refresh';
  outcome: PrefetchOutcome;
  /** The customer the caller's number found (ready and partial). */
  customerId?: string;
}

interface Tracked {
  conversationId: string;
  e164: string | undefined;
  /** When the call was first seen. */
  since: number;
  /** When to run next (Infinity: not again). */
  nextAt: number;
  runs: number;
  ready: boolean;
  state: 'idle' | 'queued' | 'running';
}

/** Conversations done with (ended, or nothing more to do) remembered, so a later event does not start them again. */
const DONE_MEMORY = 10_000;
/** How often due refreshes and retries are looked for. */
const SWEEP_MS = 250;
/** Never two runs for one conversation closer than this (a tiny fresh time must not spin). */
const MIN_GAP_MS = 250;

/**
 * Prepares the agent's view while a caller waits in a queue: on the first event that shows the
 * caller, the conversation → number mapping is stored (so the side panel's `gcConversationId`
 * look-up needs no Genesys call) and the caller is looked up by phone through the normal look-up,
 * as background work (spare rate-limit budget only; see resilience/background.ts). A look-up that
 * got only part of the profile is tried again after PREFETCH_RETRY_MS; a complete one is
 * refreshed ahead of going stale while the call lasts (bounded by PREFETCH_REFRESH_MAX_MS and
 * PREFETCH_REFRESH_MAX_COUNT) and stops when the call ends.
 */
@Injectable()
export class Prefetcher implements OnApplicationShutdown {
  private readonly logger = new Logger(Prefetcher.name);
  /** Tells tests and the bench what happened (`settled`, `stopped`). */
  readonly events = new EventEmitter();
  private readonly tracked = new Map<string, Tracked>();
  private readonly done = new Set<string>();
  private readonly queue: Tracked[] = [];
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly work: BackgroundWork;

  constructor(
    private readonly config: NotificationsConfig,
    private readonly cacheConfig: CacheConfig,
    private readonly lookup: CustomerLookupService,
    private readonly directory: DirectoryService,
    private readonly cache: SourceCache,
    private readonly metrics: NotificationMetrics,
  ) {
    this.events.setMaxListeners(0);
    this.work = { reserveFraction: config.reservePercent / 100, refreshAheadMs: this.marginMs };
  }

  /** How long before its fresh time ends a part is refreshed (at most half of the fresh time). */
  private get marginMs(): number {
    return Math.min(this.config.refreshAheadMs, Math.floor(this.cacheConfig.freshTtlMs / 2));
  }

  /** Conversations followed now (for refresh-ahead or a retry). */
  get size(): number {
    return this.tracked.size;
  }

  /** A queue conversation event (only the replica holding the subscription calls this). */
  handle(event: QueueConversationEvent): void {
    const known = this.tracked.get(event.conversationId);
    if (event.ended) {
      this.remember(event.conversationId);
      if (known) this.forget(known, 'ended');
      return;
    }
    if (known || event.caller === undefined || this.done.has(event.conversationId)) return;
    const e164 = event.caller === 'withheld' ? undefined : this.directory.normalizePhone(event.caller.number);
    const t: Tracked = { conversationId: event.conversationId, e164, since: Date.now(), nextAt: 0, runs: 0, ready: false, state: 'idle' };
    // beyond the bound, still pre-fetched once, but not followed
    if (this.tracked.size < this.config.maxConversations) this.tracked.set(t.conversationId, t);
    this.metrics.tracked.set(this.tracked.size);
    this.enqueue(t);
    this.ensureSweeping();
  }

  /** Forgets every conversation (this replica no longer holds the subscription). Runs in progress finish. */
  clear(): void {
    this.tracked.clear();
    this.queue.length = 0;
    this.metrics.tracked.set(0);
    clearInterval(this.timer);
    this.timer = undefined;
  }

  onApplicationShutdown(): void {
    this.clear();
  }

  /** Resolves with the next run that settles for this conversation (and matches `accept`, if given). */
  whenSettled(conversationId: string, accept: (s: PrefetchSettled) => boolean = () => true): Promise<PrefetchSettled> {
    return new Promise((resolve) => {
      const listener = (s: PrefetchSettled) => {
        if (s.conversationId !== conversationId || !accept(s)) return;
        this.events.off('settled', listener);
        resolve(s);
      };
      this.events.on('settled', listener);
    });
  }

  private remember(conversationId: string): void {
    this.done.add(conversationId);
    if (this.done.size > DONE_MEMORY) this.done.delete(this.done.values().next().value as string);
  }

  private forget(t: Tracked, reason: 'ended' | 'limit'): void {
    this.remember(t.conversationId);
    if (this.tracked.get(t.conversationId) !== t) return;
    this.tracked.delete(t.conversationId);
    t.nextAt = Number.POSITIVE_INFINITY;
    this.metrics.tracked.set(this.tracked.size);
    this.events.emit('stopped', { conversationId: t.conversationId, reason });
  }

  private enqueue(t: Tracked): void {
    if (t.state !== 'idle') return;
    t.state = 'queued';
    this.queue.push(t);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.config.prefetchConcurrency && this.queue.length > 0) {
      const t = this.queue.shift() as Tracked;
      if (t.runs > 0 && this.tracked.get(t.conversationId) !== t) {
        t.state = 'idle';
        continue;
      }
      t.state = 'running';
      this.active++;
      void this.run(t).finally(() => {
        this.active--;
        t.state = 'idle';
        this.pump();
      });
    }
  }

  private ensureSweeping(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  /** Starts the runs that are due, and stops following calls past their bounds. */
  private sweep(): void {
    const now = Date.now();
    for (const t of this.tracked.values()) {
      if (now - t.since > this.config.refreshMaxMs || t.runs > this.config.refreshMaxCount) {
        // past the bounds: refreshed no more; forgotten once running work is done
        if (t.state === 'idle') this.forget(t, 'limit');
        continue;
      }
      if (t.state === 'idle' && t.nextAt <= now) this.enqueue(t);
    }
    if (this.tracked.size === 0 && this.queue.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async run(t: Tracked): Promise<void> {
    const kind = t.ready ? 'refresh' : 'prefetch';
    const startedAt = Date.now();
    t.runs++;
    let outcome: PrefetchOutcome;
    let customerId: string | undefined;
    let nextAt = Number.POSITIVE_INFINITY;
    try {
      // the mapping first: the side panel can find the caller without Genesys even before the CRMs answer
      await this.cache.putLookup('conversation', t.conversationId, t.e164 === undefined ? [] : [t.e164, PREFETCHED]);
      const e164 = t.e164;
      if (e164 === undefined) {
        outcome = 'withheld';
      } else {
        const result = await inBackground(this.work, () => this.lookup.byPhone(e164));
        if (!result) {
          outcome = 'unknown_caller';
        } else {
          customerId = result.view.customerId;
          const states = Object.values(result.view.sources);
          const complete = states.every(isCurrent);
          outcome = complete ? 'ready' : 'partial';
          nextAt = complete ? this.refreshDue(states) : this.retryAt();
        }
      }
    } catch (err) {
      // the phone look-up itself had no spare budget, or failed: again a little later
      outcome = 'deferred';
      nextAt = this.retryAt();
      this.logger.debug({ msg: 'pre-fetch deferred', conversationId: t.conversationId, err: (err as Error).message });
    }
    if (outcome === 'ready') t.ready = true;
    t.nextAt = Math.max(nextAt, Date.now() + MIN_GAP_MS);
    this.metrics.prefetches.inc({ kind, outcome });
    const line = { msg: kind === 'prefetch' ? 'caller pre-fetched while in queue' : 'caller refreshed ahead', conversationId: t.conversationId, outcome, ...(customerId !== undefined ? { customerId } : {}), ms: Date.now() - startedAt };
    // one line per call reaching a queue (and per retry), like one per request; refreshes only at debug
    if (kind === 'prefetch') this.logger.log(line);
    else this.logger.debug(line);
    // nothing more to do for this call: no number, nobody to keep fresh, or refresh-ahead off
    if (t.nextAt === Number.POSITIVE_INFINITY) this.forget(t, 'limit');
    const settled: PrefetchSettled = { conversationId: t.conversationId, kind, outcome, ...(customerId !== undefined ? { customerId } : {}) };
    this.events.emit('settled', settled);
  }

  /** PREFETCH_RETRY_MS from now, ±25 %: retries of many calls spread over the rate-limit windows instead of meeting in one. */
  private retryAt(): number {
    return Date.now() + Math.round(this.config.retryMs * (0.75 + Math.random() * 0.5));
  }

  /** When the first part of a complete profile is due for refresh-ahead (never, with it off). */
  private refreshDue(states: SourceState[]): number {
    if (this.marginMs <= 0) return Number.POSITIVE_INFINITY;
    const fetched = states.map((s) => (s.fetchedAt === undefined ? Number.NaN : Date.parse(s.fetchedAt))).filter((at) => !Number.isNaN(at));
    if (fetched.length === 0) return Number.POSITIVE_INFINITY;
    return Math.min(...fetched) + this.cacheConfig.freshTtlMs - this.marginMs;
  }
}

/** A source's current answer: fresh data, a current "not known here", or not configured (anything else is tried again). */
function isCurrent(state: SourceState): boolean {
  return state.status === 'ok' || state.status === 'disabled' || (state.status === 'not_found' && state.reason === undefined);
}
