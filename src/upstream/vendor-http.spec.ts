import { AxiosError, type AxiosInstance, type AxiosResponse } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { UpstreamError } from './upstream-error.js';
import { expectShape, parseJson, retryAfterMs, send, statusError } from './vendor-http.js';

function response(status: number, headers: Record<string, string> = {}, data = ''): AxiosResponse<string> {
  return { status, statusText: '', headers, data, config: {} } as unknown as AxiosResponse<string>;
}

const NOW = Date.parse('2026-10-21T07:28:00Z');

describe('retryAfterMs', () => {
  it('reads delay-seconds', () => {
    expect(retryAfterMs(response(429, { 'retry-after': '120' }), NOW)).toBe(120_000);
    expect(retryAfterMs(response(429, { 'retry-after': '0' }), NOW)).toBe(0);
  });

  it('reads an HTTP date relative to now', () => {
    expect(retryAfterMs(response(429, { 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT' }), NOW)).toBe(30_000);
  });

  it('never returns a negative delay (a date in the past)', () => {
    expect(retryAfterMs(response(429, { 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }), NOW)).toBe(0);
  });

  it('defaults now to the current time', () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    expect(retryAfterMs(response(429, { 'retry-after': 'Wed, 21 Oct 2026 07:29:00 GMT' }))).toBe(60_000);
  });

  it('is undefined without the header or with an unreadable value', () => {
    expect(retryAfterMs(response(429), NOW)).toBeUndefined();
    expect(retryAfterMs(response(429, { 'retry-after': 'soon' }), NOW)).toBeUndefined();
  });

  // BUG: Number('') is 0, so an empty (invalid) Retry-After reads as "retry immediately".
  it('is undefined for an empty header', () => {
    expect(retryAfterMs(response(429, { 'retry-after': '' }), NOW)).toBeUndefined();
  });

  afterEach(() => {
    vi.useRealTimers();
  });
});

describe('statusError', () => {
  it('429 with Retry-After → rate_limited carrying the delay', () => {
    const err = statusError('sap', response(429, { 'retry-after': '7' }));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ source: 'sap', kind: 'rate_limited', status: 429, retryAfterMs: 7000 });
    expect(err.transient).toBe(true);
  });

  it('429 without Retry-After → rate_limited without a delay', () => {
    expect(statusError('sap', response(429))).toMatchObject({ kind: 'rate_limited', retryAfterMs: undefined });
  });

  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [404, 'not_found', false],
    [400, 'bad_request', false],
    [412, 'bad_request', false],
    [422, 'bad_request', false],
    [408, 'timeout', true],
    [504, 'timeout', true],
    [500, 'unavailable', true],
    [502, 'unavailable', true],
    [503, 'unavailable', true],
    [418, 'unavailable', true],
  ] as const)('%i → %s (transient: %s)', (status, kind, transient) => {
    const err = statusError('servicenow', response(status));
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.source).toBe('servicenow');
    expect(err.transient).toBe(transient);
    expect(err.message.startsWith('servicenow: ')).toBe(true);
  });

  it('a 503 with Retry-After stays unavailable (only 429 is rate limiting)', () => {
    expect(statusError('sap', response(503, { 'retry-after': '5' })).kind).toBe('unavailable');
  });
});

describe('parseJson', () => {
  it('parses a JSON body', () => {
    expect(parseJson('sap', response(200, {}, '{"d":{"results":[]}}'))).toEqual({ d: { results: [] } });
  });

  it.each([['{"d":{"results":[{"a":1}'], ['<html><body>Service Unavailable</body></html>'], ['']])('%j → bad_response', (body) => {
    try {
      parseJson('sap', response(200, {}, body));
    } catch (err) {
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err).toMatchObject({ source: 'sap', kind: 'bad_response', status: 200 });
      expect((err as UpstreamError).cause).toBeInstanceOf(SyntaxError);
      expect((err as UpstreamError).transient).toBe(false);
      return;
    }
    throw new Error('expected parseJson to throw');
  });
});

describe('expectShape', () => {
  it('passes when ok and throws bad_response otherwise', () => {
    expect(() => expectShape('sap', true, 'entity')).not.toThrow();
    expect(() => expectShape('sap', false, 'entity')).toThrow(expect.objectContaining({ kind: 'bad_response', source: 'sap' }) as Error);
  });
});

describe('send', () => {
  const failingWith = (err: unknown) => ({ request: () => Promise.reject(err) }) as unknown as AxiosInstance;

  it('passes a response through', async () => {
    const ok = response(200, {}, '{}');
    const http = { request: vi.fn(() => Promise.resolve(ok)) } as unknown as AxiosInstance;
    await expect(send('sap', http, { url: '/x' })).resolves.toBe(ok);
  });

  it.each(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED'])('an axios %s becomes a timeout', async (code) => {
    await expect(send('sap', failingWith(new AxiosError('boom', code)), { url: '/x' })).rejects.toMatchObject({ kind: 'timeout', source: 'sap' });
  });

  it('a refused connection becomes unavailable, naming the code', async () => {
    const err: unknown = await send('sap', failingWith(new AxiosError('connect ECONNREFUSED', 'ECONNREFUSED')), { url: '/x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable' });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('any other failure becomes unavailable', async () => {
    await expect(send('sap', failingWith(new TypeError('x')), { url: '/x' })).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
