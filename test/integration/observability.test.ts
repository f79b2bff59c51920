import { describe, expect, it, vi } from 'vitest';

import { DEMO } from '../sandbox/shared/seed.js';
import { serviceSuite } from '../support/service-suite.js';

const suite = serviceSuite();
/** /metrics on the public port needs METRICS_TOKEN (the management port is not started in-process). */
const METRICS_TOKEN = 'test-metrics-scrape-token-0123456789';
const SCRAPE = { authorization: `Bearer ${METRICS_TOKEN}` };
const service = (env?: Record<string, string>) => suite.service({ METRICS_TOKEN, ...env });

/** The value of one Prometheus sample whose labels include `labels` (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/*
 * With tracing on, traces, spans and the W3C propagation to the CRMs are OpenTelemetry's: see
 * tracing.test.ts (a service process exporting to an OTLP receiver). Here, the default: tracing off.
 */
describe('logs without tracing (the default)', () => {
  it('every log line of a request carries its correlation id; no trace is invented or passed on', async () => {
    const svc = await service({ LOG_LEVEL: 'debug' });
    const response = await svc.get(`/v1/customers/${DEMO.healthy}`, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-correlation-id': 'corr-observability-1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('corr-observability-1');
    const lines = svc.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.correlationId === 'corr-observability-1');
    expect(lines.filter((l) => l.msg === 'source resolved').map((l) => l.source).sort()).toEqual(['salesforce', 'sap', 'servicenow']);
    expect(lines.some((l) => l.msg === 'request')).toBe(true);
    expect(lines.filter((l) => 'trace_id' in l || 'span_id' in l || 'traceId' in l)).toEqual([]);
    const sent = [suite.sims.salesforce, suite.sims.sap, suite.sims.servicenow].flatMap((sim) => sim.requests());
    expect(sent.length).toBeGreaterThanOrEqual(5);
    expect(sent.filter((r) => r.traceparent !== undefined)).toEqual([]);
  });
});

describe('Prometheus metrics', () => {
  it('count requests by route and code, CRM calls by outcome, cache hits and misses, and token fetches', async () => {
    const svc = await service();
    const id = DEMO.healthy;
    expect((await svc.get(`/v1/customers/${id}`)).status).toBe(200); // cold: three CRM calls
    expect((await svc.get(`/v1/customers/${id}`)).status).toBe(200); // warm: three cache hits
    expect((await svc.get('/v1/customers/%20bad')).status).toBe(400);
    const text = (await svc.get('/metrics', SCRAPE)).text;

    expect(sample(text, 'c360_http_request_duration_seconds_count', { route: '/v1/customers/:customerId', method: 'GET', code: '200' })).toBe(2);
    expect(sample(text, 'c360_http_request_duration_seconds_count', { route: '/v1/customers/:customerId', code: '400' })).toBe(1);
    expect(sample(text, 'c360_http_requests_in_flight')).toBe(1); // the scrape itself
    // Salesforce's log-in at start-up (a call under its policy), then the cold request's calls:
    // Salesforce's one query, SAP's customer and open items, ServiceNow's company and count
    for (const [source, calls] of [['salesforce', 2], ['sap', 2], ['servicenow', 2]] as const) {
      expect(sample(text, 'c360_crm_call_duration_seconds_count', { source, outcome: 'ok' }), source).toBe(calls);
      expect(sample(text, 'c360_source_results_total', { source, status: 'ok' }), source).toBe(2);
    }
    expect(sample(text, 'c360_cache_lookups_total', { cache: 'source', result: 'miss' })).toBe(3);
    expect(sample(text, 'c360_cache_lookups_total', { cache: 'source', result: 'hit' })).toBe(3);
    expect(sample(text, 'c360_token_refreshes_total', { system: 'salesforce', outcome: 'ok' })).toBe(1); // at start-up, kept since
    expect(text).toContain('c360_nodejs_eventloop_lag_p99_seconds');
  });

  it('count a failed call by its outcome and a stale serve', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const svc = await service({ CACHE_FRESH_TTL_MS: '1000', RETRY_MAX_ATTEMPTS: '1' });
    const id = DEMO.healthy;
    await svc.get(`/v1/customers/${id}`);
    vi.setSystemTime(Date.now() + 5_000); // only stale now
    suite.sims.sap.setFaults({ forcedStatus: 503 });
    const stale = await svc.get(`/v1/customers/${id}`);
    expect(stale.body.sources.sap.status).toBe('stale');
    const text = (await svc.get('/metrics', SCRAPE)).text;
    // the customer and its open items: the first to fail counts as an error, and stops the other (an
    // error too when its 503 was already in, else cancelled: a timeout)
    const sapError = sample(text, 'c360_crm_call_duration_seconds_count', { source: 'sap', outcome: 'error' }) ?? 0;
    expect(sapError).toBeGreaterThanOrEqual(1);
    expect(sapError + (sample(text, 'c360_crm_call_duration_seconds_count', { source: 'sap', outcome: 'timeout' }) ?? 0)).toBe(2);
    expect(sample(text, 'c360_cache_lookups_total', { cache: 'source', result: 'stale' })).toBe(1);
    expect(sample(text, 'c360_source_results_total', { source: 'sap', status: 'stale' })).toBe(1);
  });

  it('count a failed token request', async () => {
    suite.sims.salesforce.setFaults({ forcedStatus: 503 });
    const svc = await service({ RETRY_MAX_ATTEMPTS: '1' });
    const answer = await svc.get(`/v1/customers/${DEMO.healthy}`);
    expect(answer.body.sources.salesforce.status).toBe('unavailable');
    const text = (await svc.get('/metrics', SCRAPE)).text;
    // at start-up (the service starts all the same), then again for the look-up that needed a token
    expect(sample(text, 'c360_token_refreshes_total', { system: 'salesforce', outcome: 'error' })).toBe(2);
    expect(sample(text, 'c360_token_refreshes_total', { system: 'salesforce', outcome: 'ok' })).toBeUndefined();
  });
});
