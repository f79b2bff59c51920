import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { startService } from '../support/test-app.js';

let sims: Simulators;
beforeAll(async () => {
  sims = await startSimulators();
});
afterAll(async () => {
  await stopSimulators(sims);
});

describe('the benchmark baseline route (BENCH_BARE_ROUTE)', () => {
  it('does not exist unless enabled', async () => {
    const s = await startService({ sims });
    try {
      expect((await s.get('/__bench/bare')).status).toBe(404);
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
});
