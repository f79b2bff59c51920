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
