import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { startService, throttleWindowMs } from '../support/test-app.js';

let sims: Simulators;
beforeAll(async () => {
  sims = await startSimulators();
});
afterAll(async () => {
  await stopSimulators(sims);
});

describe('the benchmark baseline routes (BENCH_BARE_ROUTE)', () => {
  it('do not exist unless enabled', async () => {
    const s = await startService({ sims });
    try {
      expect((await s.get('/__bench/bare')).status).toBe(404);
      expect((await s.get('/__bench/raw')).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it('when enabled answers {} through the same hooks as every route, and is not in the OpenAPI document', async () => {
    const s = await startService({ sims, env: { BENCH_BARE_ROUTE: 'true' } });
    try {
      const res = await s.get('/__bench/bare');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      expect(res.headers.get('x-correlation-id')).toBeTruthy();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(Object.keys((await s.get('/docs-json')).body.paths)).not.toContain('/__bench/bare');
    } finally {
      await s.close();
    }
  });

  it('when enabled also serves the raw route: {} straight from Fastify, past no guard and none of the hooks', async () => {
    // a limit of 1: the bare route spends it, the raw route is never counted
    const s = await startService({ sims, env: { BENCH_BARE_ROUTE: 'true', THROTTLE_LIMIT: '1', THROTTLE_TTL_MS: throttleWindowMs() } });
    try {
      expect((await s.get('/__bench/bare')).status).toBe(200);
      expect((await s.get('/__bench/bare')).status).toBe(429);
      for (let i = 0; i < 3; i++) {
        const res = await s.get('/__bench/raw');
        expect(res.status).toBe(200);
        expect(res.body).toEqual({});
        // the hooks would have set these on any answer
        expect(res.headers.get('x-correlation-id')).toBeNull();
        expect(res.headers.get('content-security-policy')).toBeNull();
        expect(res.headers.get('x-ratelimit-remaining')).toBeNull();
      }
      expect(s.logs.join('')).not.toContain('/__bench/raw');
      expect(Object.keys((await s.get('/docs-json')).body.paths)).not.toContain('/__bench/raw');
      // the hooks still apply everywhere else, an unknown route included
      expect((await s.get('/__bench/nope')).headers.get('x-correlation-id')).toBeTruthy();
    } finally {
      await s.close();
    }
  });
});
