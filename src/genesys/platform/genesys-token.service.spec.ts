import { Logger } from '@nestjs/common';
import { AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { validateSync } from 'class-validator';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { GenesysConfig } from '../../config/genesys.config.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import { GenesysPlatformConfig } from './genesys-platform.config.js';
import { GenesysTokenService, TOKEN_ATTEMPTS } from './genesys-token.service.js';

/** What the fake login host saw. */
interface SeenRequest {
  url: string;
  method: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}
interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

// Every axios instance the service creates answers from `fake.answer` instead of the network.
const fake = vi.hoisted(() => ({ answer: undefined as unknown as (req: SeenRequest) => Promise<Reply> | Reply }));
vi.mock(import('../../upstream/vendor-http.js'), async (importOriginal) => {
  const actual = await importOriginal();
  return {
    ...actual,
    createVendorHttp: (baseURL: string, timeoutMs: number) => {
      const http = actual.createVendorHttp(baseURL, timeoutMs);
      http.defaults.adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse<string>> => {
        const headers = AxiosHeaders.from(config.headers);
        const reply = await fake.answer({
          url: `${config.baseURL ?? ''}${config.url ?? ''}`,
          method: (config.method ?? 'get').toUpperCase(),
          authorization: headers.get('authorization') as string | undefined,
          contentType: headers.get('content-type') as string | undefined,
          body: String(config.data ?? ''),
        });
        const data = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
        return { status: reply.status, statusText: '', headers: reply.headers ?? {}, data, config };
      };
      return http;
    },
  };
});

const MIN = 60_000;
const LOGIN = 'https://login.mypurecloud.test';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets queued promise callbacks run (no time passes on the injected clock). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function genesysConfig(overrides: Partial<GenesysConfig> = {}): GenesysConfig {
  return Object.assign(new GenesysConfig(), { loginUrl: LOGIN, clientId: 'client-a', clientSecret: 's3cret', ...overrides });
}

function platformConfig(overrides: Partial<GenesysPlatformConfig> = {}): GenesysPlatformConfig {
  return Object.assign(new GenesysPlatformConfig(), overrides);
}

/** A service on an injected clock whose token requests the test answers one by one. */
function harness(options: { config?: Partial<GenesysConfig>; platform?: Partial<GenesysPlatformConfig>; random?: () => number } = {}) {
  let clock = Date.parse('2026-03-01T09:00:00Z');
  const seen: SeenRequest[] = [];
  const pending: Array<ReturnType<typeof deferred<Reply>>> = [];
  fake.answer = (req) => {
    seen.push(req);
    const d = deferred<Reply>();
    pending.push(d);
    return d.promise;
  };
  let issued = 0;
  const service = new GenesysTokenService(genesysConfig(options.config), platformConfig(options.platform), { now: () => clock, random: options.random ?? (() => 0) });
  return {
    service,
    seen,
    /** Answers the n-th token request (0-based) with a new token of `lifetimeS` seconds. */
    issue(n: number, lifetimeS = 3600): string {
      const token = `T${++issued}`;
      pending[n].resolve({ status: 200, body: { access_token: token, token_type: 'bearer', expires_in: lifetimeS } });
      return token;
    },
    reply: (n: number, reply: Reply) => pending[n].resolve(reply),
    advance(ms: number) {
      clock += ms;
    },
  };
}

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}

beforeAll(() => Logger.overrideLogger(false));
afterEach(() => {
  vi.useRealTimers();
});

describe('GenesysPlatformConfig', () => {
  it('defaults: refresh 5 min before expiry, 3 retries, 1 s backoff base', () => {
    expect(new GenesysPlatformConfig()).toMatchObject({ tokenRefreshBeforeMs: 300_000, apiMaxRetries: 3, retryBaseMs: 1000 });
  });

  it('validates its bounds', () => {
    expect(validateSync(new GenesysPlatformConfig())).toEqual([]);
    const bad = Object.assign(new GenesysPlatformConfig(), { tokenRefreshBeforeMs: -1, apiMaxRetries: 11, retryBaseMs: 5 });
    expect(validateSync(bad).map((e) => e.property).sort()).toEqual(['apiMaxRetries', 'retryBaseMs', 'tokenRefreshBeforeMs']);
  });
});

describe('GenesysTokenService: the token request', () => {
  it('POSTs client credentials as a Basic header and grant_type=client_credentials to <login>/oauth/token', async () => {
    const h = harness();
    const token = h.service.getToken();
    await settle();
    expect(h.seen).toHaveLength(1);
    expect(h.seen[0]).toEqual({
      url: `${LOGIN}/oauth/token`,
      method: 'POST',
      authorization: `Basic ${Buffer.from('client-a:s3cret').toString('base64')}`,
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials',
    });
    h.issue(0);
    expect(await token).toBe('T1');
  });

  it('uses login.<region> when no login URL is configured', async () => {
    const h = harness({ config: { loginUrl: undefined, region: 'mypurecloud.ie' } });
    const token = h.service.getToken();
    await settle();
    expect(h.seen[0].url).toBe('https://login.mypurecloud.ie/oauth/token');
    h.issue(0);
    await token;
  });

  it('refuses without a configured client id (calls nobody)', async () => {
    const h = harness({ config: { clientId: '' } });
    expect(h.service.enabled).toBe(false);
    await expect(h.service.getToken()).rejects.toMatchObject({ source: 'genesys', kind: 'auth' });
    expect(h.seen).toHaveLength(0);
  });

  it('asks for one token for concurrent callers, and keeps it', async () => {
    const h = harness();
    const callers = [h.service.getToken(), h.service.getToken(), h.service.getToken()];
    await settle();
    expect(h.seen.map((s) => s.url)).toEqual([`${LOGIN}/oauth/token`]);
    h.issue(0);
    expect(await Promise.all(callers)).toEqual(['T1', 'T1', 'T1']);
    expect(await h.service.getToken()).toBe('T1');
    expect(h.seen).toHaveLength(1);
  });
});

describe('GenesysTokenService: caching and refresh (60-min token, refresh 5 min before expiry)', () => {
  it('serves the cached token while more than 5 min remain', async () => {
    const h = harness();
    const first = h.service.getToken();
    await settle();
    h.issue(0);
    expect(await first).toBe('T1');
    h.advance(54 * MIN);
    expect(await h.service.getToken()).toBe('T1');
    expect(h.seen).toHaveLength(1);
  });

  it('at T=59 min refreshes in the background: the caller gets the current token at once', async () => {
    const h = harness();
    const first = h.service.getToken();
    await settle();
    h.issue(0);
    await first;

    h.advance(59 * MIN);
    const during = h.service.getToken();
    expect(await isSettled(during)).toBe(true); // not blocked by the refresh
    expect(await during).toBe('T1');
    expect(h.seen).toHaveLength(2); // the refresh is under way

    // more callers while it is in flight: still T1, still one request
    expect(await h.service.getToken()).toBe('T1');
    expect(h.seen).toHaveLength(2);

    h.issue(1);
    await settle();
    expect(await h.service.getToken()).toBe('T2');
    expect(h.seen).toHaveLength(2);
  });

  it('at T=62 min (expired, nothing refreshed it) the caller waits for a new token', async () => {
    const h = harness();
    const first = h.service.getToken();
    await settle();
    h.issue(0);
    await first;

    h.advance(62 * MIN);
    const after = h.service.getToken();
    expect(await isSettled(after)).toBe(false); // no expired token is handed out
    expect(h.seen).toHaveLength(2);
    h.issue(1);
    expect(await after).toBe('T2');
  });

  it('trusts expires_in (a 300 s client refreshes at once, every time, in the background)', async () => {
    const h = harness();
    const first = h.service.getToken();
    await settle();
    h.issue(0, 300);
    expect(await first).toBe('T1');
    // 300 s lifetime ≤ 5 min refresh margin: the next call starts a refresh but still gets T1
    expect(await h.service.getToken()).toBe('T1');
    expect(h.seen).toHaveLength(2);
    h.advance(301_000);
    const blocked = h.service.getToken();
    expect(await isSettled(blocked)).toBe(false);
    h.issue(1, 300);
    expect(await blocked).toBe('T2');
  });

  it('the refresh margin comes from GENESYS_TOKEN_REFRESH_BEFORE_MS', async () => {
    const h = harness({ platform: { tokenRefreshBeforeMs: 60_000 } });
    const first = h.service.getToken();
    await settle();
    h.issue(0);
    await first;
    h.advance(58 * MIN);
    expect(await h.service.getToken()).toBe('T1');
    expect(h.seen).toHaveLength(1);
    h.advance(1 * MIN);
    expect(await h.service.getToken()).toBe('T1');
    expect(h.seen).toHaveLength(2);
  });

  it('50 concurrent callers share one token request', async () => {
    const h = harness();
    const callers = Array.from({ length: 50 }, () => h.service.getToken());
    await settle();
    expect(h.seen).toHaveLength(1);
    h.issue(0);
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['T1']));
    expect(h.seen).toHaveLength(1);
  });

  it('50 concurrent callers at T=59 min start one background refresh and are all served at once', async () => {
    const h = harness();
    const first = h.service.getToken();
    await settle();
    h.issue(0);
    await first;
    h.advance(59 * MIN);
    const callers = Array.from({ length: 50 }, () => h.service.getToken());
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['T1']));
    expect(h.seen).toHaveLength(2);
  });

  it('invalidate drops a rejected token; the next caller fetches a new one', async () => {
    const h = harness();
    const first = h.service.getToken();
    await settle();
    h.issue(0);
    await first;
    h.service.invalidate('T0-unknown'); // not the current one: ignored
    expect(await h.service.getToken()).toBe('T1');
    h.service.invalidate('T1');
    const next = h.service.getToken();
    await settle();
    expect(h.seen).toHaveLength(2);
    h.issue(1);
    expect(await next).toBe('T2');
  });

  it('a caller whose signal aborts stops waiting; the shared request still serves the others', async () => {
    const h = harness();
    const controller = new AbortController();
    const impatient = h.service.getToken(controller.signal);
    const patient = h.service.getToken();
    await settle();
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ kind: 'timeout' });
    h.issue(0);
    expect(await patient).toBe('T1');
    expect(h.seen).toHaveLength(1);
  });
});

describe('GenesysTokenService: retries of the token request', () => {
  it(`retries transient failures (503, 429 with Retry-After) with backoff, ${TOKEN_ATTEMPTS} tries in all`, async () => {
    vi.useFakeTimers();
    const h = harness();
    const token = h.service.getToken();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.seen).toHaveLength(1);
    h.reply(0, { status: 503, body: { message: 'down' } });

    await vi.advanceTimersByTimeAsync(999);
    expect(h.seen).toHaveLength(1); // base 1 s, never sooner
    await vi.advanceTimersByTimeAsync(1);
    expect(h.seen).toHaveLength(2);
    h.reply(1, { status: 429, body: { code: 'too.many.requests.retry.after' }, headers: { 'retry-after': '5' } });

    await vi.advanceTimersByTimeAsync(4999);
    expect(h.seen).toHaveLength(2); // Retry-After 5 s honoured
    await vi.advanceTimersByTimeAsync(1);
    expect(h.seen).toHaveLength(3);
    h.issue(2);
    expect(await token).toBe('T1');
  });

  it('gives up after the last try with the typed error', async () => {
    vi.useFakeTimers();
    const h = harness({ platform: { retryBaseMs: 10 } });
    const token = h.service.getToken();
    const outcome = token.catch((err: unknown) => err);
    for (let i = 0; i < TOKEN_ATTEMPTS; i++) {
      await vi.advanceTimersByTimeAsync(100);
      expect(h.seen).toHaveLength(i + 1);
      h.reply(i, { status: 503 });
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.seen).toHaveLength(TOKEN_ATTEMPTS);
    const err = await outcome;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ source: 'genesys', kind: 'unavailable', status: 503 });
  });

  it('does not retry rejected credentials (401 invalid_client)', async () => {
    vi.useFakeTimers();
    const h = harness();
    const token = h.service.getToken();
    const outcome = token.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(0);
    h.reply(0, { status: 401, body: { error: 'invalid_client' } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await outcome).toMatchObject({ kind: 'auth', status: 401 });
    expect(h.seen).toHaveLength(1);
  });

  it('jitter lengthens a wait, never shortens it', async () => {
    vi.useFakeTimers();
    const h = harness({ random: () => 0.999 });
    const token = h.service.getToken();
    await vi.advanceTimersByTimeAsync(0);
    h.reply(0, { status: 503 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(250);
    expect(h.seen).toHaveLength(2); // 1 s + at most 25 %
    h.issue(1);
    expect(await token).toBe('T1');
  });

  it('stops retrying on shutdown', async () => {
    vi.useFakeTimers();
    const h = harness();
    const outcome = h.service.getToken().catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(0);
    h.reply(0, { status: 503 });
    await vi.advanceTimersByTimeAsync(10);
    h.service.onApplicationShutdown();
    expect(await outcome).toMatchObject({ kind: 'unavailable' });
    expect(h.seen).toHaveLength(1);
  });
});
