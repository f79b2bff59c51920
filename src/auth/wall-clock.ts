/**
 * The clock for lru-cache TTLs in auth/. lru-cache's default is `performance.now()`, captured when
 * the package loads: monotonic, but blind to `vi.useFakeTimers()` / `setSystemTime` and unrelated
 * to the wall-clock times our windows are stated in. `Date.now` is looked up on every call, so a
 * fake clock installed later is seen too. Pair it with `ttlResolution: 0` (lru-cache otherwise
 * caches "now" for a millisecond behind a timer).
 */
export const WALL_CLOCK = { now: (): number => Date.now() };
