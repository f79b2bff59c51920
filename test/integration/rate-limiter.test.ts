import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '../../src/cache/redis.provider.js';
import { SharedRateLimiter } from '../../src/resilience/shared-rate-limiter.js';
import { Logger } from '@nestjs/common';
import { RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  for (const c of clients) if (c.isOpen) c.destroy();
  await redis.stop();
});

async function connected(): Promise<Redis> {
  const client = createRedis(redis.url, new Logger('test'));
  clients.push(client);
  if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return client;
}

function limiter(client: Redis, points: number): SharedRateLimiter {
  return new SharedRateLimiter({ source: 'salesforce', points, durationSec: 60, redis: client, keyPrefix: 'c360test', expectedReplicas: 3, maxWaitMs: 0, opTimeoutMs: 200, maxQueue: 10 });
}

async function granted(l: SharedRateLimiter, attempts: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < attempts; i++) {
    try {
      await l.acquire();
      ok++;
    } catch (err) {
      expect(err).toMatchObject({ kind: 'rate_limited' });
    }
  }
  return ok;
}

describe('shared outbound rate limit', () => {
  it('is one budget for all replicas while Redis is up', async () => {
    const [a, b] = [limiter(await connected(), 6), limiter(await connected(), 6)];
    expect((await granted(a, 4)) + (await granted(b, 4))).toBe(6);
    const probe = createClient({ url: redis.url });
    await probe.connect();
    expect(await probe.keys('c360test:rl*')).toHaveLength(1); // the count really lives in Redis
    await probe.close();
  });

  it('falls back to limit ÷ expected replicas per process when Redis is down, and says so', async () => {
    const client = await connected();
    const l = limiter(client, 9);
    const warnings: unknown[] = [];
    const original = Logger.prototype.warn;
    Logger.prototype.warn = function (message: unknown) {
      warnings.push(message);
    };
    try {
      await redis.kill();
      expect(await granted(l, 6)).toBe(3);
    } finally {
      Logger.prototype.warn = original;
      await redis.resume();
    }
    expect(JSON.stringify(warnings)).toContain("using this process's share");
  });
});
