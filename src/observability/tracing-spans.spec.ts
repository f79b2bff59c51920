import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runWithCorrelation } from './correlation.js';
import { requestLogFields } from './logger.js';
import { activateSpans, currentCall, deactivateSpans, setHttpRoute, spanEvent, traceLogFields, traceResolution, tracingActive, withAttempt } from './tracing-spans.js';

const ok = { state: { status: 'ok', cache: 'miss' } };

describe('with tracing off (the SDK never started)', () => {
  it('every helper runs what it is given and records nothing', async () => {
    deactivateSpans();
    expect(tracingActive()).toBe(false);
    await expect(traceResolution('sap', () => Promise.resolve(ok))).resolves.toBe(ok);
    await expect(withAttempt('sap', 2, () => Promise.resolve(currentCall()))).resolves.toBeUndefined();
    expect(() => spanEvent('retry')).not.toThrow();
    expect(() => setHttpRoute('/x')).not.toThrow();
    expect(traceLogFields()).toBeUndefined();
  });

  it('log lines of a request still carry its correlation id', () => {
    expect(requestLogFields()).toEqual({});
    expect(runWithCorrelation('corr-1', () => requestLogFields())).toEqual({ correlationId: 'corr-1' });
  });
});

describe('with tracing on', () => {
  const exporter = new tracing.InMemorySpanExporter();
  const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
  provider.register(); // the global tracer provider, AsyncLocalStorage context and W3C propagation, as the SDK sets them
  const routes: string[] = [];
  beforeAll(() => activateSpans((route) => routes.push(route)));

  beforeEach(() => exporter.reset());
  afterAll(async () => {
    deactivateSpans();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  const finished = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);

  it('one span per source resolution, the active span for the work inside it, described by its outcome', async () => {
    const outcome = await traceResolution('salesforce', async () => {
      trace.getTracer('test').startSpan('GET').end(); // what the HTTP instrumentation does for a call
      spanEvent('rate limit wait', { 'c360.wait_ms': 120 });
      return { state: { status: 'ok', cache: 'miss' }, batchSize: 3 };
    });
    expect(outcome.batchSize).toBe(3);
    const span = finished('resolve salesforce');
    expect(span?.attributes).toEqual({ 'c360.source': 'salesforce', 'c360.status': 'ok', 'c360.cache': 'miss', 'c360.batch.size': 3 });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.events.map((e) => [e.name, e.attributes])).toEqual([['rate limit wait', { 'c360.wait_ms': 120 }]]);
    expect(finished('GET')?.parentSpanContext?.spanId).toBe(span?.spanContext().spanId);
  });

  it.each([
    ['a stale copy served', { state: { status: 'stale', reason: 'timeout', ageMs: 4000 } }, { 'c360.cache': 'stale', 'c360.stale_age_ms': 4000, 'c360.reason': 'timeout' }, 'stale: timeout'],
    ['nothing in time', { state: { status: 'timeout', reason: 'timeout' } }, { 'c360.cache': 'none', 'c360.reason': 'timeout' }, 'timeout: timeout'],
    ['a refused call', { state: { status: 'unavailable', reason: 'circuit_open' } }, { 'c360.reason': 'circuit_open' }, 'unavailable: circuit_open'],
  ])('%s is an error span (a degraded answer)', async (_what, result, attributes, message) => {
    await traceResolution('sap', () => Promise.resolve(result));
    const span = finished('resolve sap');
    expect(span?.attributes).toMatchObject(attributes);
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message });
  });

  it('a cache hit and a source that does not know the customer are answers, not errors', async () => {
    await traceResolution('sap', () => Promise.resolve({ state: { status: 'ok', cache: 'hit' } }));
    await traceResolution('servicenow', () => Promise.resolve({ state: { status: 'not_found', cache: 'miss' } }));
    expect(finished('resolve sap')?.status.code).toBe(SpanStatusCode.UNSET);
    expect(finished('resolve servicenow')?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a resolution that throws ends its span as an error and rethrows', async () => {
    await expect(traceResolution('sap', () => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    expect(finished('resolve sap')?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('each attempt of a call carries its source and number to the HTTP span made inside it', async () => {
    const seen = await withAttempt('sap', 2, async () => {
      await Promise.resolve();
      return currentCall();
    });
    expect(seen).toEqual({ source: 'sap', attempt: 2 });
    expect(currentCall()).toBeUndefined();
  });

  it('log lines inside a span carry trace_id, span_id and trace_flags, with the correlation id', async () => {
    const span = trace.getTracer('test').startSpan('POST /genesys/v1/customer-lookup');
    const fields = await context.with(trace.setSpan(context.active(), span), () => runWithCorrelation('corr-2', async () => {
      await Promise.resolve();
      return requestLogFields();
    }));
    span.end();
    expect(fields).toEqual({ correlationId: 'corr-2', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId, trace_flags: '01' });
    expect(traceLogFields()).toBeUndefined(); // no span outside
  });

  it('names the server span after the route', () => {
    setHttpRoute('/v1/customers/:customerId');
    setHttpRoute(undefined); // an unmatched request: nothing to name
    expect(routes).toEqual(['/v1/customers/:customerId']);
  });
});
