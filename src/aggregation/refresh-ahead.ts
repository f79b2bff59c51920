import type { CachedSource } from '../cache/source-cache.js';
import { type BackgroundWork, backgroundWork, inBackground } from '../resilience/background.js';

/**
 * An entry whose refresh did not replace it (no spare rate-limit slot, the source down) is tried
 * again by a later read no sooner than this: the next rate-limit window.
 */
export const REFRESH_RETRY_MS = 1000;

/**
 * The longest a refresh waits to be batched with others (fewer calls for the same refreshes), and
 * at most a quarter of the window, so it still lands well before the part goes stale.
 */
export const REFRESH_LINGER_MAX_MS = 1000;

/** Share of each system's per-window budget a refresh on read never takes: kept for live look-ups (pre-fetch's default). */
export const REFRESH_RESERVE_FRACTION = 0.3;

/**
 * Refresh-ahead on read: a part answered fresh from the cache with less than `windowMs` of its
 * fresh time left is fetched again in the background, so the reads that follow find it fresh and
 * never wait for the source (without it, the first read after the part goes stale waits for a live
 * call, and is answered with the stale copy if the call misses the deadline — a rate-limit wait is
 * enough). The refresh is background work (see resilience/background.ts): the same look-up path,
 * spare rate-limit slots only, waiting up to a quarter of the window (at most REFRESH_LINGER_MAX_MS)
 * to go out with other refreshes, and in the call of any live look-up of the system meanwhile.
 *
 * Each cached entry (one object per fetch, never changed) is refreshed once, or again after
 * REFRESH_RETRY_MS when its refresh did not replace it; the refresh itself is single-flight in the
 * process and across replicas (the cache's lock), so a hot part costs one call per window.
 * Pure bookkeeping: what to run is the caller's.
 */
export class RefreshAhead {
  /** When each entry's refresh was last started. */
  private readonly started = new WeakMap<CachedSource, number>();
  readonly work: BackgroundWork;
  /** Refreshes started and not settled (see `whenIdle`). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly freshTtlMs: number,
    percent: number,
  ) {
    const windowMs = Math.floor((freshTtlMs * percent) / 100);
    this.work = { reserveFraction: REFRESH_RESERVE_FRACTION, refreshAheadMs: windowMs, lingerMs: Math.min(REFRESH_LINGER_MAX_MS, Math.floor(windowMs / 4)) };
  }

  /** How long before its fresh time ends a part read is refreshed (0: never ahead). */
  get windowMs(): number {
    return this.work.refreshAheadMs;
  }

  /**
   * Whether `entry`, answered fresh at `now`, is to be refreshed now; it is then counted as started.
   * Never within background work (pre-fetch, a refresh): that asks for its own margin.
   */
  claim(entry: CachedSource, now: number): boolean {
    if (entry.fetchedAt + this.freshTtlMs - now >= this.windowMs) return false;
    const last = this.started.get(entry);
    if (last !== undefined && now - last < REFRESH_RETRY_MS) return false;
    if (backgroundWork() !== undefined) return false;
    this.started.set(entry, now);
    return true;
  }

  /** Runs `refresh` as background work, not awaited by anyone (a failure leaves the entry to its next read). */
  run(refresh: () => Promise<unknown>): void {
    const done = inBackground(this.work, refresh).then(
      () => undefined,
      () => undefined,
    );
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  /** Resolves once every refresh started so far has settled. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
