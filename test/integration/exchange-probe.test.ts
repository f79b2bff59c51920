import { resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { measureExchangeCpu, probeClient, probeServer } from '../bench/exchange-probe.js';

describe("the bench's HTTP exchange probe (the CPU floor under the cold path at 1 concurrent)", () => {
  it('makes every exchange it counts, one at a time, each answered by the server after its delay', async () => {
    const server = await probeServer(5, 50);
    try {
      server.mark();
      const startedAt = performance.now();
      const result = await probeClient({ url: `http://127.0.0.1:${server.port}/`, amount: 30, restMs: 50 });
      const elapsedMs = performance.now() - startedAt;
      const use = server.use();
      // 20 warm-up exchanges, then the 30 measured: the server answered exactly what the client says it made
      expect(result.requests).toBe(50);
      expect(use.answered).toBe(50);
      // one at a time: 50 answers, each held 5 ms, cannot take less than 250 ms
      expect(elapsedMs).toBeGreaterThanOrEqual(250);
      expect(Number.isFinite(result.cpuMsPerExchange) && result.cpuMsPerExchange >= 0).toBe(true);
      expect(use.cpuMs).toBeGreaterThan(0);
      expect(use.restMsPerS).toBeGreaterThanOrEqual(0);
    } finally {
      await server.close();
    }
  });

  it('runs the server and the client as processes of their own (the built probe, as the bench forks it) and reports each side', async () => {
    const cpu = await measureExchangeCpu({ amount: 10, delayMs: 1, restMs: 50, probe: resolve('dist/test/bench/exchange-probe.js') });
    expect(Number.isFinite(cpu.serverMs) && cpu.serverMs >= 0).toBe(true);
    expect(Number.isFinite(cpu.clientMs) && cpu.clientMs >= 0).toBe(true);
  });

  it('fails, not hangs, when the client cannot reach the server', async () => {
    await expect(probeClient({ url: 'http://127.0.0.1:1/', amount: 1, restMs: 1 })).rejects.toThrow();
  });
});
