import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { redactPath, redactUrl, REDACTED, ScrubbingExporter, secretMatcher, SpanScrubber } from './tracing-scrub.js';

describe('redactPath', () => {
  it.each([
    ['/v1/customers/0010100001', '/v1/customers/{id}'],
    ['/services/data/v66.0/query', '/services/data/v66.0/query'],
    ['/services/data/v66.0/query?q=SELECT+Id+FROM+Account+WHERE+Phone%3D%27%2B14155550101%27', '/services/data/v66.0/query'],
    ["/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer('0010100001')", '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer({key})'],
    ['/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer(%270010100001%27)', '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer({key})'],
    ['/api/now/table/core_company', '/api/now/table/core_company'],
    ['/api/v2/conversations/3f1c2a9e-8b7d-4c6e-a5f4-0123456789ab', '/api/v2/conversations/{id}'],
    ['/v1/customers/by-phone/+14155550101', '/v1/customers/by-phone/{id}'],
    ['/v1/customers/jane.doe@example.com', '/v1/customers/{id}'],
    ['/v1/customers/CUST12345', '/v1/customers/{id}'],
    ['/services/oauth2/token', '/services/oauth2/token'],
    ['/v1/customers/a%20b', '/v1/customers/{id}'],
  ])('%s → %s', (path, expected) => {
    expect(redactPath(path)).toBe(expected);
  });
});

describe('redactUrl', () => {
  it('keeps scheme, host and port, drops credentials, query and fragment', () => {
    expect(redactUrl('https://user:pa55@s4.example.com:8443/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer(%270010100001%27)?$format=json&sap-client=100#x')).toBe(
      'https://s4.example.com:8443/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer({key})',
    );
  });
});

describe('SpanScrubber', () => {
  const scrubber = new SpanScrubber(secretMatcher(['sap-Pa55word-Tech!', 'abc', 'sap-Pa55']));

  it('masks configured secrets (longest first) and strips URL queries in any text', () => {
    expect(scrubber.text('login with sap-Pa55word-Tech! failed')).toBe(`login with ${REDACTED} failed`);
    expect(scrubber.text('GET https://acme.service-now.com/api/now/table/core_company?sysparm_query=u_customer_number%3D0010100001 failed')).toBe(
      'GET https://acme.service-now.com/api/now/table/core_company failed',
    );
    // secrets shorter than 4 characters would mask ordinary words: ignored
    expect(scrubber.text('abc')).toBe('abc');
  });

  it('rewrites URL, path and statement attributes, drops queries and headers, keeps the rest', () => {
    const out = scrubber.attributes(
      {
        'url.full': 'https://acme.my.salesforce.com/services/data/v66.0/query?q=SELECT%20Id%20FROM%20Account',
        'url.path': '/v1/customers/0010100001',
        'url.query': 'email=jane%40example.com',
        'db.query.text': 'GET c360:src:sap:0010100001',
        'db.statement': 'SET c360:phone:+14155550101 0010100001',
        'http.request.header.authorization': ['Bearer x'],
        'http.response.header.set-cookie': ['a=b'],
        'http.response.status_code': 503,
        'c360.reason': 'login with sap-Pa55word-Tech!',
        'tags': ['sap-Pa55word-Tech!', 'ok'],
      },
      '/v1/customers/:customerId',
    );
    expect(out).toEqual({
      'url.full': 'https://acme.my.salesforce.com/services/data/v66.0/query',
      'url.path': '/v1/customers/:customerId',
      'db.query.text': 'GET',
      'db.statement': 'SET',
      'http.response.status_code': 503,
      'c360.reason': `login with ${REDACTED}`,
      'tags': [REDACTED, 'ok'],
    });
  });

  it('redacts a path when no route is known', () => {
    expect(scrubber.attributes({ 'url.path': '/v1/customers/0010100001' })).toEqual({ 'url.path': '/v1/customers/{id}' });
  });

  function recordedSpan(): ReadableSpan {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer('test').startSpan('GET https://h.example/x?phone=%2B14155550101', {
      kind: SpanKind.SERVER,
      attributes: { 'http.route': '/v1/customers/:customerId', 'url.path': '/v1/customers/0010100001', 'url.query': 'a=b' },
    });
    span.recordException(new Error('failed for sap-Pa55word-Tech!'));
    span.addEvent('retry', { 'url.full': 'https://h.example/a?b=c' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'sap-Pa55word-Tech! refused' });
    span.end();
    return exporter.getFinishedSpans()[0];
  }

  it('scrubs a whole span: name, attributes (the path becomes the route), events (no stack trace), status; ids and timing unchanged', () => {
    const original = recordedSpan();
    const span = scrubber.span(original);
    expect(span.name).toBe('GET https://h.example/x');
    expect(span.attributes).toEqual({ 'http.route': '/v1/customers/:customerId', 'url.path': '/v1/customers/:customerId' });
    const exception = span.events.find((e) => e.name === 'exception');
    expect(exception?.attributes).toMatchObject({ 'exception.message': `failed for ${REDACTED}`, 'exception.type': 'Error' });
    expect(exception?.attributes?.['exception.stacktrace']).toBeUndefined();
    expect(span.events.find((e) => e.name === 'retry')?.attributes).toEqual({ 'url.full': 'https://h.example/a' });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: `${REDACTED} refused` });
    expect(span.spanContext()).toEqual(original.spanContext());
    expect([span.startTime, span.endTime, span.kind, span.resource]).toEqual([original.startTime, original.endTime, original.kind, original.resource]);
  });

  it('ScrubbingExporter hands the inner exporter scrubbed spans', async () => {
    const inner = new InMemorySpanExporter();
    const exporter = new ScrubbingExporter(inner, scrubber);
    const result = await new Promise((resolve) => exporter.export([recordedSpan()], resolve));
    expect(result).toMatchObject({ code: 0 });
    expect(inner.getFinishedSpans().map((s) => s.attributes['url.path'])).toEqual(['/v1/customers/:customerId']);
    await exporter.shutdown();
  });
});
