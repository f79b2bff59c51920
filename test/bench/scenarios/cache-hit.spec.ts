import { describe, expect, it } from 'vitest';
import { CACHE_HIT_GOAL, meetsCacheHitGoals } from './cache-hit.js';

describe('the cache-hit goals', () => {
  const met = { toBare: 0.8, toRaw: 0.5, p99Ms: 5, failures: 0 };

  it('are met at exactly 0.8× bare, 0.5× raw and a 5 ms p99, with nothing failed', () => {
    expect(meetsCacheHitGoals(met)).toBe(true);
    expect(CACHE_HIT_GOAL).toBe('≥ 0.8× bare, ≥ 0.5× raw; p99 ≤ 5 ms');
  });

  it('are missed by falling short on any one of them', () => {
    expect(meetsCacheHitGoals({ ...met, toBare: 0.79 })).toBe(false);
    expect(meetsCacheHitGoals({ ...met, toRaw: 0.49 })).toBe(false);
    expect(meetsCacheHitGoals({ ...met, p99Ms: 5.01 })).toBe(false);
    expect(meetsCacheHitGoals({ ...met, failures: 1 })).toBe(false);
    // a route faster than the bare one is fine, but the raw route still has to be half reached
    expect(meetsCacheHitGoals({ ...met, toBare: 1.2, toRaw: 0.3 })).toBe(false);
  });
});
