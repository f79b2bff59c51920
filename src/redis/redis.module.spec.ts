import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { Redis } from './redis.client.js';
import { FIRST_CONNECTION_WAIT_MS, REDIS, RedisModule } from './redis.module.js';

/** A Redis whose first connection lands when the test says (or never). */
function connectingRedis() {
  let land!: () => void;
  const connected = new Promise<void>((resolve) => (land = resolve));
  const redis = { isReady: false, connect: vi.fn(() => connected.then(() => redis)), close: vi.fn(() => Promise.resolve()) };
  return { redis: redis as unknown as Redis, land };
}

/** Starts the module's lifecycle (onModuleInit) over `redis`; resolves with whether it has finished. */
async function init(redis: Redis) {
  const moduleRef = await Test.createTestingModule({ imports: [RedisModule] }).overrideProvider(REDIS).useValue(redis).compile();
  let done = false;
  const initialised = moduleRef.init().then(() => (done = true));
  return { finished: () => done, initialised };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RedisModule at start-up', () => {
  it('waits for the first connection, so what runs at start-up finds Redis', async () => {
    vi.useFakeTimers();
    const { redis, land } = connectingRedis();
    const start = await init(redis);
    await vi.advanceTimersByTimeAsync(FIRST_CONNECTION_WAIT_MS / 2);
    expect(start.finished()).toBe(false);
    land();
    await start.initialised;
    expect(start.finished()).toBe(true);
  });

  it('does not hold start-up longer than FIRST_CONNECTION_WAIT_MS for a Redis that is away', async () => {
    vi.useFakeTimers();
    const { redis } = connectingRedis();
    const start = await init(redis);
    await vi.advanceTimersByTimeAsync(FIRST_CONNECTION_WAIT_MS - 1);
    expect(start.finished()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await start.initialised;
    expect(start.finished()).toBe(true);
  });
});
