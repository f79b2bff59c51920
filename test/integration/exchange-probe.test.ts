import { resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { measureExchanges, probeClient, probeServer } from '../bench/exchange-probe.js';
import { RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

describe("the bench's HTTP exchange probe (the floors under the cold path at 1 concurrent)", () => {
  it('makes every exchange it counts, one at a time after its pause, and times each', async () => {
    const server = await probeServer(50);
    try {
      server.mark();
      const startedAt = performance.now();
      const result = await probeClient({ url: `http://127.0.0.1:${server.port}/`, amount: 30, restMs: 50, pauseMs: 5 });
      const elapsedMs = performance.now() - startedAt;
      const use = server.use();
      // 20 warm-up exchanges, then the 30 measured: the server answered exactly what the client says it made
      expect(result.requests).toBe(50);
      expect(use.answered).toBe(50);
      // the 30 measured ones each after a pause of 5 ms: not less than 150 ms
      expect(elapsedMs).toBeGreaterThanOrEqual(150);
      // an exchange takes some time, less than the whole run's share; no Redis asked
      expect(result.exchangeMs).toBeGreaterThan(0);
      expect(result.exchangeMs).toBeLessThan(elapsedMs / 30);
      expect(result.redisRoundTripMs).toBeUndefined();
      expect(Number.isFinite(result.cpuMsPerExchange) && result.cpuMsPerExchange >= 0).toBe(true);
      expect(use.cpuMs).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('runs the server and the client as processes of their own (the built probe, as the bench forks it), with Redis round trips', async () => {
    const port = Number(new URL(redis.url).port);
    const floors = await measureExchanges({ amount: 10, pauseMs: 1, restMs: 50, redisPort: port, probe: resolve('dist/test/bench/exchange-probe.js') });
    expect(Number.isFinite(floors.serverMs) && floors.serverMs >= 0).toBe(true);
    expect(Number.isFinite(floors.clientMs) && floors.clientMs >= 0).toBe(true);
    expect(floors.exchangeMs).toBeGreaterThan(0);
    expect(floors.redisRoundTripMs).toBeGreaterThan(0);
  });

  it('fails, not hangs, when the client cannot reach the server or Redis answers something else than PONG', async () => {
    await expect(probeClient({ url: 'http://127.0.0.1:1/', amount: 1, restMs: 1, pauseMs: 0 })).rejects.toThrow();
    const server = await probeServer(1);
    try {
      // the HTTP server is no Redis: the PING gets an HTTP error answer back
      await expect(probeClient({ url: `http://127.0.0.1:${server.port}/`, amount: 1, restMs: 1, pauseMs: 0, redisPort: server.port })).rejects.toThrow(/Redis answered/);
    } finally {
      await server.close();
    }
  });
});
