import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cannon } from '../bench/load.js';

let server: Server;
let url: string;
let answered = 0;
let lastAnsweredAt = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    answered++;
    lastAnsweredAt = performance.now();
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("the bench's closed-loop load (cannon)", () => {
  it('times a run of a fixed amount to its last answer, not to autocannon\'s next one-second report', async () => {
    const before = performance.now();
    const run = await cannon({ url, method: 'GET', headers: {}, connections: 2, amount: 20 });
    const reportedAt = performance.now();
    expect(run.ok).toBe(20);
    expect(answered).toBe(20);
    // autocannon reports on its one-second tick, well after the server's last answer here …
    expect(reportedAt - lastAnsweredAt).toBeGreaterThan(100);
    // … and the run's time ends at that answer (as the client saw it), so throughput is answers over that time
    expect(before + run.elapsedMs).toBeGreaterThanOrEqual(lastAnsweredAt);
    expect(before + run.elapsedMs).toBeLessThan(reportedAt - 100);
    expect(run.rps).toBeCloseTo((run.ok * 1000) / run.elapsedMs, 6);
  });
});
