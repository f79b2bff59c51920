import { describe, expect, it } from 'vitest';
import { BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../config/load-config.js';
import { diagMessage, resourceAttributes, sampler, spanProcessors } from './tracing-sdk.js';

const config = (env: Record<string, string>) => loadConfig({ SALESFORCE_ENABLED: 'false', SAP_ENABLED: 'false', SERVICENOW_ENABLED: 'false', ...env }, () => '');

describe('the SDK as configured', () => {
  it.each([
    [{}, 'ParentBased{root=AlwaysOnSampler'],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, 'ParentBased{root=TraceIdRatioBased{0.1}'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, 'TraceIdRatioBased{0.25}'],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, 'AlwaysOffSampler'],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, 'ParentBased{root=AlwaysOffSampler'],
  ])('sampler for %o', (env, expected) => {
    expect(sampler(config(env).tracing).toString()).toContain(expected);
  });

  it('resource: OTEL_RESOURCE_ATTRIBUTES (percent-decoded), service.name from OTEL_SERVICE_NAME', () => {
    expect(resourceAttributes(config({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=contact%20center,service.name=ignored' }).tracing)).toEqual({
      'deployment.environment.name': 'prod',
      team: 'contact center',
      'service.name': 'customer360',
    });
    expect(resourceAttributes(config({ OTEL_SERVICE_NAME: 'c360-eu' }).tracing)['service.name']).toBe('c360-eu');
  });

  it('exports OTLP in batches, the console span by span, nothing with none', () => {
    const otlp = spanProcessors(config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }));
    expect(otlp).toHaveLength(1);
    expect(otlp[0]).toBeInstanceOf(BatchSpanProcessor);
    expect(spanProcessors(config({ OTEL_TRACES_EXPORTER: 'console' }))[0]).toBeInstanceOf(SimpleSpanProcessor);
    expect(spanProcessors(config({ OTEL_TRACES_EXPORTER: 'none' }))).toEqual([]);
    return Promise.all(otlp.map((p) => p.shutdown()));
  });

  it('logs an export failure by its message, without the stack the SDK serializes', () => {
    expect(diagMessage('{"stack":"Error: connect ECONNREFUSED 127.0.0.1:1\\n    at x","message":"connect ECONNREFUSED 127.0.0.1:1","code":"ECONNREFUSED"}')).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(diagMessage('Dropped 3 spans')).toBe('Dropped 3 spans');
    expect(diagMessage('{not json')).toBe('{not json');
  });
});
