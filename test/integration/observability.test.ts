import { describe, expect, it, vi } from 'vitest';

import { DEMO, DEMO_CUSTOMERS } from '../sandbox/shared/seed.js';
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

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('W3C trace context', () => {
  it('passes the caller\'s trace on to every CRM call and into the request\'s log lines', async () => {
    const svc = await service({ LOG_LEVEL: 'debug' });
    const response = await svc.get(`/v1/customers/${DEMO.healthy}`, { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    expect(response.status).toBe(200);
    const sent = [suite.sims.salesforce, suite.sims.sap, suite.sims.servicenow].flatMap((sim) => sim.requests().map((r) => r.traceparent));
    expect(sent.length).toBeGreaterThanOrEqual(3);
    const parents = new Set<string>();
    for (const header of sent) {
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(header ?? '');
      expect(match, `traceparent ${header}`).not.toBeNull();
      expect(match?.[1]).toBe(TRACE_ID);
      parents.add(match?.[2] ?? '');
    }
    // one span for the request, which is the parent of every outbound call, and not the caller's span
    expect(parents.size).toBe(1);
    const [spanId] = [...parents];
    expect(spanId).not.toBe('00f067aa0ba902b7');
    const lines = svc.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.traceId === TRACE_ID);
    expect(lines.some((l) => l.msg === 'source resolved' && l.spanId === spanId)).toBe(true);
  });

  it('starts a trace of its own when the caller sends none or a malformed one, one per request', async () => {
    const svc = await service();
    await svc.get(`/v1/customers/${DEMO_CUSTOMERS[2].customerId}`, { traceparent: 'not-a-trace' });
    await svc.get(`/v1/customers/${DEMO_CUSTOMERS[3].customerId}`);
    const traces = suite.sims.sap.requests().map((r) => /^00-([0-9a-f]{32})-/.exec(r.traceparent ?? '')?.[1]);
    expect(traces.length).toBeGreaterThanOrEqual(2);
    expect(traces.every((t) => t !== undefined)).toBe(true);
    expect(new Set(traces).size).toBe(2);
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
    // the cold request's calls: Salesforce's one query, SAP's customer and open items, ServiceNow's company and count
    for (const [source, calls] of [['salesforce', 1], ['sap', 2], ['servicenow', 2]] as const) {
      expect(sample(text, 'c360_crm_call_duration_seconds_count', { source, outcome: 'ok' }), source).toBe(calls);
      expect(sample(text, 'c360_source_results_total', { source, status: 'ok' }), source).toBe(2);
    }
    expect(sample(text, 'c360_cache_lookups_total', { cache: 'source', result: 'miss' })).toBe(3);
    expect(sample(text, 'c360_cache_lookups_total', { cache: 'source', result: 'hit' })).toBe(3);
    expect(sample(text, 'c360_token_refreshes_total', { system: 'salesforce', outcome: 'ok' })).toBe(1);
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
    expect(sample(text, 'c360_token_refreshes_total', { system: 'salesforce', outcome: 'error' })).toBe(1);
    expect(sample(text, 'c360_token_refreshes_total', { system: 'salesforce', outcome: 'ok' })).toBeUndefined();
  });
});
