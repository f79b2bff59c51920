import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';

import { UpstreamError } from './upstream-error.js';

/**
 * The TCP keep-alive delay of the pooled sockets: axios sets 60 s on a socket at every request, and
 * the agent sets its own delay again when the socket goes back to the pool. With the same value
 * both are no-ops after the first (Node skips an unchanged setting); with different ones each HTTP
 * call paid eight setsockopt system calls (measured with strace: 10 s and 60 s in turn).
 */
export const TCP_KEEPALIVE_MS = 60_000;

/**
 * How every vendor system is called: keep-alive pools so a screen pop never pays a TCP/TLS
 * handshake, statuses judged and bodies parsed by us (a malformed body must be an error, not a
 * string), no redirects followed. The connectors get an instance made from it by @nestjs/axios's
 * HttpModule (see connectors/vendor-clients.ts); the Genesys clients, several per module, make theirs
 * with createVendorHttp.
 */
export function vendorHttpConfig(baseURL: string, timeoutMs: number, maxSockets = 64): AxiosRequestConfig {
  return {
    baseURL,
    timeout: timeoutMs,
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets, keepAliveMsecs: TCP_KEEPALIVE_MS }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, keepAliveMsecs: TCP_KEEPALIVE_MS }),
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
    maxContentLength: 5 * 1024 * 1024,
    // W3C trace context (traceparent, baggage) is added by OpenTelemetry's HTTP instrumentation when tracing is on
  };
}

/** One axios instance with vendorHttpConfig. */
export function createVendorHttp(baseURL: string, timeoutMs: number, maxSockets = 64): AxiosInstance {
  return axios.create(vendorHttpConfig(baseURL, timeoutMs, maxSockets));
}

/** Closes an instance's keep-alive sockets (on shutdown). */
export function destroyVendorHttp(http: AxiosInstance): void {
  (http.defaults.httpAgent as HttpAgent | undefined)?.destroy();
  (http.defaults.httpsAgent as HttpsAgent | undefined)?.destroy();
}

/** Sends a request; network-level failures become typed UpstreamErrors. */
export async function send(source: string, http: AxiosInstance, config: AxiosRequestConfig): Promise<AxiosResponse<string>> {
  try {
    return await http.request<string>(config);
  } catch (err) {
    throw networkError(source, err);
  }
}

function networkError(source: string, err: unknown): UpstreamError {
  if (err instanceof AxiosError || axios.isCancel(err)) {
    const code = (err as AxiosError).code;
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') {
      return new UpstreamError(source, 'timeout', 'request timed out or was cancelled', undefined, undefined, { cause: err });
    }
    return new UpstreamError(source, 'unavailable', `connection failed (${code ?? 'unknown'})`, undefined, undefined, { cause: err });
  }
  return new UpstreamError(source, 'unavailable', 'request failed', undefined, undefined, { cause: err });
}

/** Parses a JSON body, or fails as a bad response (truncated, HTML error page, …). */
export function parseJson(source: string, response: AxiosResponse<string>): unknown {
  try {
    return JSON.parse(response.data);
  } catch (err) {
    throw new UpstreamError(source, 'bad_response', 'response body is not valid JSON', response.status, undefined, { cause: err });
  }
}

/** `Retry-After` (seconds or an HTTP date) in ms, if present. */
export function retryAfterMs(response: AxiosResponse, now: number = Date.now()): number | undefined {
  const header = response.headers['retry-after'] as string | undefined;
  if (header === undefined) return undefined;
  const value = String(header).trim();
  // delta-seconds is digits only; anything else must be an HTTP date (an empty value is neither)
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The generic meaning of a non-2xx status (vendors refine it before falling back to this). */
export function statusError(source: string, response: AxiosResponse): UpstreamError {
  const status = response.status;
  if (status === 429) return new UpstreamError(source, 'rate_limited', 'rate limited', status, retryAfterMs(response));
  if (status === 401 || status === 403) return new UpstreamError(source, 'auth', 'authentication rejected', status);
  if (status === 404) return new UpstreamError(source, 'not_found', 'not found', status);
  if (status === 400 || status === 412 || status === 422) return new UpstreamError(source, 'bad_request', `request rejected (${status})`, status);
  if (status === 408 || status === 504) return new UpstreamError(source, 'timeout', `gateway timeout (${status})`, status);
  return new UpstreamError(source, 'unavailable', `unexpected status ${status}`, status);
}

/** Throws a bad-response error unless `ok` — for shape checks in mappers. */
export function expectShape(source: string, ok: boolean, what: string): asserts ok {
  if (!ok) throw new UpstreamError(source, 'bad_response', `unexpected response shape: ${what}`);
}
