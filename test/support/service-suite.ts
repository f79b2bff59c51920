import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';

import { resetSimulators, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { startService, type TestService } from './test-app.js';

export interface ServiceSuite {
  /** The file's simulators (set once its tests start). */
  readonly sims: Simulators;
  /**
   * The real service wired to them; closed after the test. The simulators' call records start once
   * it is up, unless `keepStartUpCalls` (its log-ins at start-up then count).
   */
  service(env?: Record<string, string>, options?: { keepStartUpCalls?: boolean }): Promise<TestService>;
}

/**
 * The usual shape of an integration test file: one set of simulators for the file, back to the
 * seeded, fault-free state before each test, and the services a test starts closed after it
 * (real timers restored first, for tests that fake Date).
 */
export function serviceSuite(): ServiceSuite {
  let sims: Simulators | undefined;
  const started: TestService[] = [];
  beforeAll(async () => {
    sims = await startSimulators();
  });
  afterAll(async () => {
    if (sims) await stopSimulators(sims);
  });
  beforeEach(() => {
    if (sims) resetSimulators(sims);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  return {
    get sims(): Simulators {
      if (!sims) throw new Error('simulators are started in beforeAll');
      return sims;
    },
    async service(env: Record<string, string> = {}, options: { keepStartUpCalls?: boolean } = {}): Promise<TestService> {
      const s = await startService({ sims: this.sims, env, ...options });
      started.push(s);
      return s;
    },
  };
}
