import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheConfig } from '../cache/cache.config.js';
import type { Redis } from '../cache/redis.provider.js';
import { REPLAY_MEMORY_MAX, ReplayStore } from './replay-store.js';

const WINDOW_MS = 600_000;

function store(redis: Partial<Redis> | null = null): ReplayStore {
  return new ReplayStore(redis as Redis | null, Object.assign(new CacheConfig(), { keyPrefix: 'c360', opTimeoutMs: 250 }));
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-03-02T09:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ReplayStore in this process (no Redis)', () => {
  it('accepts a signature once and refuses it again inside its window', async () => {
    const s = store();
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(true);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(false);
    expect(await s.firstUse('sig-b', WINDOW_MS)).toBe(true);
  });

  it('forgets a signature when its window has passed on the wall clock', async () => {
    const s = store();
    await s.firstUse('sig-a', WINDOW_MS);
    vi.setSystemTime(Date.now() + WINDOW_MS);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(false);
    vi.setSystemTime(Date.now() + 1);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(true);
  });

  it('keeps each signature for its own window', async () => {
    const s = store();
    await s.firstUse('short', 1_000);
    await s.firstUse('long', WINDOW_MS);
    vi.setSystemTime(Date.now() + 1_001);
    expect(await s.firstUse('short', 1_000)).toBe(true);
    expect(await s.firstUse('long', WINDOW_MS)).toBe(false);
  });

  it('is bounded: past REPLAY_MEMORY_MAX signatures the oldest is forgotten first', async () => {
    const s = store();
    for (let i = 0; i <= REPLAY_MEMORY_MAX; i++) await s.firstUse(`sig-${i}`, WINDOW_MS);
    expect(await s.firstUse(`sig-${REPLAY_MEMORY_MAX}`, WINDOW_MS)).toBe(false);
    expect(await s.firstUse('sig-1', WINDOW_MS)).toBe(false);
    expect(await s.firstUse('sig-0', WINDOW_MS)).toBe(true);
  });
});

describe('ReplayStore with Redis', () => {
  it('asks Redis (SET NX PX, under the key prefix), so a signature used on another replica is refused', async () => {
    const set = vi.fn(async () => null);
    const s = store({ isReady: true, set } as unknown as Partial<Redis>);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(false);
    expect(set).toHaveBeenCalledWith('c360:sig:sig-a', '1', { NX: true, PX: WINDOW_MS });
  });

  it('accepts what Redis has not seen, and refuses the replay from memory without asking again', async () => {
    const set = vi.fn(async () => 'OK');
    const s = store({ isReady: true, set } as unknown as Partial<Redis>);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(true);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(false);
    expect(set).toHaveBeenCalledTimes(1);
  });

  it('fails open when Redis fails, but this process still refuses what it has seen', async () => {
    const set = vi.fn(async () => {
      throw new Error('connection reset');
    });
    const s = store({ isReady: true, set } as unknown as Partial<Redis>);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(true);
    expect(await s.firstUse('sig-a', WINDOW_MS)).toBe(false);
  });
});
