import { runWith, workContext } from '../observability/work-context.js';

/**
 * Work nobody is waiting for (the Genesys pre-fetch and refresh-ahead) runs at a lower priority
 * than live look-ups. It goes through exactly the same code (the normal look-up, the cache, the
 * single-flight, the connectors), marked by this context, and the resilience layer treats it
 * differently in two places only:
 *
 * - the shared rate limit: it never waits for a slot, and takes one only when, after taking it,
 *   `reserveFraction` of the system's budget for that window is still free for live look-ups
 *   (see SharedRateLimiter.acquireSpare);
 * - the bulkhead: it never queues behind, or ahead of, live calls (refused when no slot is free).
 *
 * The aggregation treats a cached part as due for refresh when less than `refreshAheadMs` of its
 * fresh time remains, so refresh-ahead replaces a part before it goes stale.
 */
export interface BackgroundWork {
  /** Share (0–1) of each system's per-window budget that background work never takes. */
  reserveFraction: number;
  /** A cached part with less than this left of its fresh time is fetched again (0: only when stale). */
  refreshAheadMs: number;
  /**
   * How long a look-up of this work may wait to be batched with others before its call goes out
   * (nobody waits for it; fewer, larger calls spend less of the vendors' budget). A live look-up of
   * the same system takes every one waiting along in its call at once. 0 or absent: none.
   */
  lingerMs?: number;
}

/** Runs `fn` (and everything it starts) as background work. */
export function inBackground<T>(work: BackgroundWork, fn: () => Promise<T>): Promise<T> {
  return runWith({ background: work }, fn);
}

/**
 * The background work the caller is part of, or undefined for live work. Read it where a call
 * enters a policy and carry it explicitly from there: a queue that runs a waiting task when
 * another finishes (a bulkhead) would run it in the finishing task's context.
 */
/** Runs `fn` as live work, outside any background context it was called from. */
export function asLive<T>(fn: () => Promise<T>): Promise<T> {
  return runWith({ background: undefined }, fn);
}

export function backgroundWork(): BackgroundWork | undefined {
  return workContext().background as BackgroundWork | undefined;
}

/** How much earlier than its fresh time a cached part counts as due, for the work running now (0 for live work). */
export function refreshAheadMs(): number {
  return backgroundWork()?.refreshAheadMs ?? 0;
}
