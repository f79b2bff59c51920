import { Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectorError } from '../../connectors/connector.errors.js';
import { Deadline } from '../../resilience/deadline.js';
import { RESILIENT } from '../../resilience/resilient.decorator.js';
import { GenesysConfig } from '../genesys.config.js';
import { GenesysApiClient } from './genesys-api.client.js';
import { GenesysPlatformConfig } from './genesys-platform.config.js';
import type { GenesysTokenService } from './genesys-token.service.js';

/** What the fake Platform API saw, and when (fake time). */
interface SeenRequest {
  at: number;
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

// Every axios instance the client creates answers from `fake.answer` instead of the network.
const fake = vi.hoisted(() => ({ answer: undefined as unknown as (req: SeenRequest) => Reply }));
vi.mock(import('../../connectors/vendor-http.js'), async (importOriginal) => {
  const actual = await importOriginal();
  return {
    ...actual,
    createVendorHttp: (baseURL: string, timeoutMs: number) => {
      const http = actual.createVendorHttp(baseURL, timeoutMs);
      http.defaults.adapter = (config: InternalAxiosRequestConfig): Promise<AxiosResponse<string>> => {
        const headers = AxiosHeaders.from(config.headers);
        const reply = fake.answer({
          at: Date.now(),
          url: `${config.baseURL ?? ''}${config.url ?? ''}`,
          method: (config.method ?? 'get').toUpperCase(),
          authorization: headers.get('authorization') as string | undefined,
          contentType: headers.get('content-type') as string | undefined,
          body: String(config.data ?? ''),
        });
        const data = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
        return Promise.resolve({ status: reply.status, statusText: '', headers: reply.headers ?? {}, data, config });
      };
      return http;
    },
  };
});

const API = 'https://api.mypurecloud.test';
const UNAUTHORIZED: Reply = { status: 401, body: { message: 'Authentication failed', code: 'authentication.required', status: 401 } };
const rateLimited = (seconds: number): Reply => ({
  status: 429,
  headers: { 'retry-after': String(seconds) },
  body: { message: `Rate limit exceeded the maximum. Retry the request in [${seconds}] seconds`, code: 'too.many.requests.retry.after', status: 429 },
});
/** Genesys's CreateCallResponse: the new conversation's id is `id`. */
const placed = (id = 'conv-1'): Reply => ({ status: 200, body: { id, selfUri: `/api/v2/conversations/calls/${id}` } });

/** A client whose API answers come from `replies` in order (the last one repeats), with a stub token service. */
function harness(replies: Reply[], options: { platform?: Partial<GenesysPlatformConfig>; random?: () => number } = {}) {
  const seen: SeenRequest[] = [];
  fake.answer = (req) => {
    seen.push(req);
    return replies[Math.min(seen.length - 1, replies.length - 1)];
  };
  let issued = 0;
  let current: string | undefined;
  const tokens = {
    getToken: vi.fn((signal?: AbortSignal) => {
      if (signal?.aborted) return Promise.reject(new ConnectorError('genesys', 'timeout', 'cancelled'));
      current ??= `T${++issued}`;
      return Promise.resolve(current);
    }),
    invalidate: vi.fn((token: string) => {
      if (token === current) current = undefined;
    }),
  };
  const config = Object.assign(new GenesysConfig(), { apiUrl: API, clientId: 'client-a', clientSecret: 's3cret' });
  const platform = Object.assign(new GenesysPlatformConfig(), options.platform);
  const client = new GenesysApiClient(config, platform, tokens as unknown as GenesysTokenService, { random: options.random ?? (() => 0) });
  return { client, seen, tokens, gaps: () => seen.slice(1).map((s, i) => s.at - seen[i].at) };
}

beforeAll(() => Logger.overrideLogger(false));
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GenesysApiClient.createCall', () => {
  it('POSTs {phoneNumber} with the bearer token to <api>/api/v2/conversations/calls and returns the conversation id', async () => {
    const h = harness([placed('c0ffee')]);
    await expect(h.client.createCall('+14155550100')).resolves.toEqual({ conversationId: 'c0ffee' });
    expect(h.seen).toHaveLength(1);
    expect(h.seen[0]).toMatchObject({
      url: `${API}/api/v2/conversations/calls`,
      method: 'POST',
      authorization: 'Bearer T1',
      contentType: 'application/json',
    });
    expect(JSON.parse(h.seen[0].body)).toEqual({ phoneNumber: '+14155550100' });
  });

  it('is marked @Resilient for genesys as a non-idempotent call', () => {
    expect(new Reflector().get(RESILIENT, GenesysApiClient.prototype.createCall)).toEqual({ source: 'genesys', idempotent: false });
  });

  it('401 → discards the token and retries at 1 s, 2 s, 4 s (never sooner), then fails with auth', async () => {
    const h = harness([UNAUTHORIZED]);
    const outcome = h.client.createCall('+14155550100').catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.seen).toHaveLength(1);

    for (const [retry, wait] of [1000, 2000, 4000].entries()) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(h.seen).toHaveLength(retry + 1); // not yet
      await vi.advanceTimersByTimeAsync(1);
      expect(h.seen).toHaveLength(retry + 2);
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.seen).toHaveLength(4); // 1 + GENESYS_API_MAX_RETRIES (3)

    const err = await outcome;
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ source: 'genesys', kind: 'auth', status: 401 });
    expect(h.gaps()).toEqual([1000, 2000, 4000]);
    // every rejected token was discarded, and every retry used a fresh one
    expect(h.tokens.invalidate.mock.calls.map(([t]) => t)).toEqual(['T1', 'T2', 'T3', 'T4']);
    expect(h.seen.map((s) => s.authorization)).toEqual(['Bearer T1', 'Bearer T2', 'Bearer T3', 'Bearer T4']);
  });

  it('jitter only lengthens the 401 backoff (≥ 1 s, 2 s, 4 s; at most +25 %)', async () => {
    const h = harness([UNAUTHORIZED], { random: () => 0.999 });
    const outcome = h.client.createCall('+14155550100').catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await outcome).toMatchObject({ kind: 'auth' });
    // random → 0.999: each wait is its base plus (just under) a quarter of it, never less than the base
    expect(h.gaps()).toEqual([1000 + 249, 2000 + 499, 4000 + 999]);
  });

  it('the retry budget and backoff base come from GENESYS_API_MAX_RETRIES and GENESYS_RETRY_BASE_MS', async () => {
    const h = harness([UNAUTHORIZED], { platform: { apiMaxRetries: 1, retryBaseMs: 10 } });
    const outcome = h.client.createCall('+1').catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await outcome).toMatchObject({ kind: 'auth' });
    expect(h.gaps()).toEqual([10]);
  });

  it('401 once (token expired) → re-authenticates after 1 s and succeeds', async () => {
    const h = harness([UNAUTHORIZED, placed('conv-2')]);
    const call = h.client.createCall('+14155550100');
    await vi.advanceTimersByTimeAsync(1000);
    await expect(call).resolves.toEqual({ conversationId: 'conv-2' });
    expect(h.seen.map((s) => s.authorization)).toEqual(['Bearer T1', 'Bearer T2']);
    expect(h.tokens.invalidate).toHaveBeenCalledOnce();
  });

  it('429 → waits for Retry-After (never sooner), then retries with the same token', async () => {
    const h = harness([rateLimited(7), placed('conv-3')]);
    const call = h.client.createCall('+14155550100');
    await vi.advanceTimersByTimeAsync(6999);
    expect(h.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.seen).toHaveLength(2);
    await expect(call).resolves.toEqual({ conversationId: 'conv-3' });
    expect(h.tokens.invalidate).not.toHaveBeenCalled();
    expect(h.seen.map((s) => s.authorization)).toEqual(['Bearer T1', 'Bearer T1']);
  });

  it('429 Retry-After gets jitter on top (≤ +25 %)', async () => {
    const h = harness([rateLimited(4), placed()], { random: () => 0.999 });
    const call = h.client.createCall('+1');
    await vi.advanceTimersByTimeAsync(4000);
    expect(h.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(call).resolves.toEqual({ conversationId: 'conv-1' });
    expect(h.gaps()).toEqual([4000 + 999]); // Retry-After plus (just under) a quarter of it
  });

  it('429 without Retry-After falls back to the exponential backoff', async () => {
    const h = harness([{ status: 429, body: {} }, placed()]);
    const call = h.client.createCall('+1');
    await vi.advanceTimersByTimeAsync(1000);
    await expect(call).resolves.toEqual({ conversationId: 'conv-1' });
    expect(h.gaps()).toEqual([1000]);
  });

  it('429s count against the same budget: after 3 retries the rate_limited error (with its Retry-After) is thrown', async () => {
    const h = harness([rateLimited(2)]);
    const outcome = h.client.createCall('+1').catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await outcome).toMatchObject({ source: 'genesys', kind: 'rate_limited', status: 429, retryAfterMs: 2000 });
    expect(h.gaps()).toEqual([2000, 2000, 2000]);
  });

  it('401 and 429 share the budget and the exponent', async () => {
    const h = harness([UNAUTHORIZED, rateLimited(3), UNAUTHORIZED, placed('conv-4')]);
    const call = h.client.createCall('+1');
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(call).resolves.toEqual({ conversationId: 'conv-4' });
    expect(h.gaps()).toEqual([1000, 3000, 4000]);
  });

  it.each([
    [400, 'bad_request'],
    [403, 'auth'],
    [404, 'not_found'],
    [500, 'unavailable'],
    [503, 'unavailable'],
    [504, 'timeout'],
  ] as const)('%i → %s at once, without a retry (a write is not repeated)', async (status, kind) => {
    const h = harness([{ status, body: { message: 'no', code: 'x', status } }]);
    await expect(h.client.createCall('+1')).rejects.toMatchObject({ source: 'genesys', kind, status });
    expect(h.seen).toHaveLength(1);
    expect(h.tokens.invalidate).not.toHaveBeenCalled();
  });

  it('a success without a conversation id is a bad_response', async () => {
    // the field is `id` (CreateCallResponse); a `conversationId` field is not Genesys's shape
    const h = harness([{ status: 200, body: { conversationId: 'x' } }]);
    await expect(h.client.createCall('+1')).rejects.toMatchObject({ kind: 'bad_response' });
    const empty = harness([{ status: 200, body: { id: '', selfUri: '/api/v2/conversations/calls/' } }]);
    await expect(empty.client.createCall('+1')).rejects.toMatchObject({ kind: 'bad_response' });
    const broken = harness([{ status: 200, body: '<html>' }]);
    await expect(broken.client.createCall('+1')).rejects.toMatchObject({ kind: 'bad_response' });
  });

  it('an abort while waiting to retry ends the call at once, without another request', async () => {
    const h = harness([UNAUTHORIZED]);
    const controller = new AbortController();
    const outcome = h.client.createCall('+1', controller.signal).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(500);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    const err = await outcome;
    expect(err).toMatchObject({ source: 'genesys', kind: 'timeout' });
    expect((err as Error).cause).toMatchObject({ kind: 'auth' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.seen).toHaveLength(1);
  });

  it('does not start a wait that would end past the deadline', async () => {
    const h = harness([rateLimited(30)]);
    const signal = Deadline.after(5000).signal;
    await expect(h.client.createCall('+1', signal)).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 30_000 });
    expect(h.seen).toHaveLength(1);
  });
});
