import { Writable } from 'node:stream';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { expect, vi } from 'vitest';

import { loadConfig } from '../../src/app.config.js';
import { createApp } from '../../src/app.factory.js';
import { REDIS, type Redis } from '../../src/cache/redis.provider.js';
import type { ConnectorRegistration } from '../../src/connectors/connector-registration.js';
import { Metrics } from '../../src/observability/metrics.js';
import { resetSimulators, sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';

/** The real service, listening on a free port, wired to simulators over real HTTP. */
export interface TestService {
  app: NestFastifyApplication;
  url: string;
  sims: Simulators;
  /** Every log line the service wrote (JSON strings). */
  logs: string[];
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

/** Tests that are not about rate limits must not be shaped by the production defaults (Salesforce 5/s). */
export const GENEROUS_LIMITS = { SALESFORCE_RATE_LIMIT_PER_SEC: '10000', SAP_RATE_LIMIT_PER_SEC: '10000', SERVICENOW_RATE_LIMIT_PER_SEC: '10000' } as const;

/**
 * THROTTLE_TTL_MS for a test that counts one client's requests within one window. The throttle's
 * windows are fixed and aligned to the clock, so a test that straddled a window's end saw its count
 * start again (200, 200, 200 where 200, 200, 429 was due: a flake once a few hundred runs). This is
 * a window length of a minute or more whose current window has at least `leftMs` still to run.
 */
export function throttleWindowMs(leftMs = 30_000, now = Date.now()): string {
  let ms = 60_000;
  while (ms - (now % ms) < leftMs) ms += 1000;
  return String(ms);
}

/** Suites that are not about inbound authentication call the service without credentials. */
export const OPEN_AUTH = { GENESYS_AUTH: 'none', INTERNAL_AUTH: 'none' } as const;

export async function startService(options: { env?: Record<string, string | undefined>; sims?: Simulators; connectors?: readonly ConnectorRegistration[]; keepStartUpCalls?: boolean } = {}): Promise<TestService> {
  const ownSims = options.sims === undefined;
  const sims = options.sims ?? (await startSimulators());
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const config = loadConfig(sandboxEnv(sims, { LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...GENEROUS_LIMITS, ...OPEN_AUTH, ...options.env }), undefined, options.connectors);
  const { app } = await createApp(config, { logDestination: destination, connectors: options.connectors });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const redis = app.get<Redis | null>(REDIS);
  if (redis && !redis.isReady) await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  // a test counts the CRM calls its own requests cause: the service's log-in at start-up is
  // test/integration/log-in.test.ts's to check, and is forgotten here unless asked for
  if (!options.keepStartUpCalls) for (const sim of Object.values(sims)) sim.resetCalls();
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, init);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, headers: response.headers, text };
  };
  return {
    app,
    url,
    sims,
    logs,
    get: (path, headers) => call('GET', path, undefined, headers),
    post: (path, body, headers) => call('POST', path, body, headers),
    close: async () => {
      await app.close();
      if (ownSims) await stopSimulators(sims);
    },
  };
}

export { resetSimulators };

/**
 * Resolves once `s` has heard `count` invalidations from other replicas (its
 * c360_near_cache_invalidations_total{cause="invalidation",origin="replica"}): the announcement
 * reaches it over its own Redis connection a moment after the invalidating answer (README: coherence,
 * "the message in flight"), so a test reads it only then.
 */
export async function heardInvalidations(s: TestService, count = 1): Promise<void> {
  await vi.waitFor(async () => {
    const { values } = await s.app.get(Metrics).nearInvalidations.get();
    expect(values.find((v) => v.labels.cause === 'invalidation' && v.labels.origin === 'replica')?.value).toBe(count);
  });
}
