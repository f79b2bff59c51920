import { describe, expect, it } from 'vitest';

import { Metrics } from './metrics.js';

describe('HTTP latency series', () => {
  it('resolves a route, method and code once, then hands back the same series', async () => {
    const metrics = new Metrics();
    const series = metrics.httpRequest('GET', '/v1/customers/:customerId', 200);
    expect(metrics.httpRequest('GET', '/v1/customers/:customerId', 200)).toBe(series);
    expect(metrics.httpRequest('GET', '/v1/customers/:customerId', 404)).not.toBe(series);
    expect(metrics.httpRequest('POST', '/v1/customers/:customerId', 200)).not.toBe(series);
    series.observe(0.002);
    series.observe(0.2);
    metrics.httpRequest('GET', '/v1/customers/:customerId', 404).observe(0.001);
    const text = await metrics.registry.getSingleMetricAsString('c360_http_request_duration_seconds');
    expect(text).toContain('c360_http_request_duration_seconds_count{method="GET",route="/v1/customers/:customerId",code="200"} 2');
    expect(text).toContain('c360_http_request_duration_seconds_bucket{le="0.0025",method="GET",route="/v1/customers/:customerId",code="200"} 1');
    expect(text).toContain('c360_http_request_duration_seconds_count{method="GET",route="/v1/customers/:customerId",code="404"} 1');
  });
});

describe('counters counted on the request path', () => {
  it('reach the series when read, each count once, beside counts made with labels directly', async () => {
    const metrics = new Metrics();
    metrics.sourceResult('sap', 'ok');
    metrics.sourceResult('sap', 'ok');
    metrics.sourceResult('salesforce', 'stale');
    metrics.cacheLookup('source', 'hit');
    metrics.cacheLookups.inc({ cache: 'phone', result: 'miss' });
    metrics.nearHit('servicenow');
    const values = async () => (await metrics.sourceResults.get()).values.map((v) => [v.labels.source, v.labels.status, v.value]);
    expect(await values()).toEqual([['sap', 'ok', 2], ['salesforce', 'stale', 1]]);
    // read again: nothing added twice
    expect(await values()).toEqual([['sap', 'ok', 2], ['salesforce', 'stale', 1]]);
    metrics.sourceResult('sap', 'ok');
    const text = await metrics.registry.metrics();
    expect(text).toContain('c360_source_results_total{source="sap",status="ok"} 3');
    expect(text).toContain('c360_cache_lookups_total{cache="source",result="hit"} 1');
    expect(text).toContain('c360_cache_lookups_total{cache="phone",result="miss"} 1');
    expect(text).toContain('c360_near_cache_hits_total{source="servicenow"} 1');
  });
});
