import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS, SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO, DEMO_CUSTOMERS, demoCustomer } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators, startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { type AttributeValue, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { RedisServer } from '../support/redis-server.js';
import { type ServiceProcess, spawnService } from '../support/service-process.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';
import { waterfallSvg } from '../support/trace-waterfall.js';

/*
 * The service as it runs in production (a separate process started from dist/src/main.js, Redis,
 * the four simulators over HTTP) with tracing on, exporting to an OTLP/HTTP receiver in this test
 * that decodes what arrives. What an operator's APM would show is checked span by span.
 */

let sims: Simulators;
let redis: RedisServer;
let receiver: OtlpReceiver;

beforeAll(async () => {
  [sims, redis, receiver] = await Promise.all([startSimulators(), RedisServer.start(), startOtlpReceiver()]);
});
afterAll(async () => {
  await Promise.all([stopSimulators(sims), redis.stop(), receiver.close()]);
});
beforeEach(async () => {
  resetSimulators(sims, { keepTokens: true }); // a service process outlives the tests of its block, and its log-in with them
  await redis.flush();
});

/**
 * One service process for a describe block (stopped after it). Spans leave in batches every 50 ms
 * (the SDK's own OTEL_BSP_SCHEDULE_DELAY), and a test waits for the spans it needs to arrive, not for time.
 */
function serviceFor(env: Record<string, string>): () => ServiceProcess {
  let svc: ServiceProcess | undefined;
  beforeAll(async () => {
    svc = await spawnService(sandboxEnv(sims, { REDIS_URL: redis.url, ...GENEROUS_LIMITS, ...OPEN_AUTH, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50', LOG_SLOW_REQUEST_MS: '0', ...env })); // every request line at info (a fast 200's is a debug line otherwise)
  });
  afterAll(async () => {
    await svc?.stop();
  });
  return () => {
    if (!svc) throw new Error('the service starts in beforeAll');
    return svc;
  };
}

const newTraceId = (): string => crypto.randomUUID().replaceAll('-', '');
const newSpanId = (): string => crypto.randomUUID().replaceAll('-', '').slice(0, 16);
const traceparent = (traceId: string, parent: string, flags = '01') => `00-${traceId}-${parent}-${flags}`;

async function customAction(svc: ServiceProcess, body: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: any; correlationId: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(`${svc.url}/genesys/v1/customer-lookup`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json(), correlationId: response.headers.get('x-correlation-id') ?? '' };
}

const isHttpClient = (s: ReceivedSpan) => s.kind === 'client' && s.attributes['http.request.method'] !== undefined;
const isRedis = (s: ReceivedSpan) => s.attributes['db.system.name'] === 'redis';
const server = (spans: ReceivedSpan[]) => spans.filter((s) => s.kind === 'server');
const resolution = (spans: ReceivedSpan[], source: string) => spans.find((s) => s.name === `resolve ${source}`);

/** The CRM requests recorded by the simulators, with the span id their traceparent names as parent. */
function crmRequests(traceId?: string): Array<{ system: string; route: string; parent: string; flags: string }> {
  return (['salesforce', 'sap', 'servicenow'] as const).flatMap((system) =>
    sims[system].requests().flatMap((r) => {
      const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(r.traceparent ?? '');
      expect(match, `${system} ${r.route} carries a traceparent (${r.traceparent})`).not.toBeNull();
      if (!match || (traceId !== undefined && match[1] !== traceId)) return [];
      return [{ system, route: r.route, parent: match[2], flags: match[3] }];
    }),
  );
}

/**
 * The service's log lines (JSON) of one request, once its `request` line (written as the answer
 * leaves) is out.
 */
async function logLines(svc: ServiceProcess, correlationId: string): Promise<Array<Record<string, unknown>>> {
  for (let from = 0; ; ) {
    await svc.whenOutput(correlationId, from);
    const out = svc.output();
    const at = out.indexOf(correlationId, from);
    const line = out.slice(out.lastIndexOf('\n', at) + 1, out.indexOf('\n', at) === -1 ? undefined : out.indexOf('\n', at));
    if (line.includes('"msg":"request"')) break;
    from = at + correlationId.length;
  }
  return svc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(correlationId))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('tracing on, OTLP over http/protobuf', () => {
  const service = serviceFor({ OTEL_SERVICE_NAME: 'customer360-test', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.namespace=contact-center' });

  it('one custom action: continues the caller\'s trace, one span per source, each CRM call a child span whose id the CRM received', async () => {
    const svc = service();
    const traceId = newTraceId();
    const callerSpan = newSpanId();
    const answer = await customAction(svc, { customerId: DEMO.healthy }, { traceparent: traceparent(traceId, callerSpan) });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ok', data: { customerView: { customerId: DEMO.healthy, isDegraded: false } } });
    const calls = crmRequests(traceId);
    // no token request: the service logged in to Salesforce at start-up, outside any request's trace
    expect(calls.map((c) => `${c.system} ${c.route}`).sort()).toEqual(['salesforce query', 'sap customer', 'sap openItems', 'servicenow stats', 'servicenow table']);
    const spans = await receiver.trace(traceId, (s) => server(s).length === 1 && ['salesforce', 'sap', 'servicenow'].every((src) => resolution(s, src)) && s.filter(isHttpClient).length === calls.length);

    // the inbound request: a child of the caller's span, named by its route
    const [request] = server(spans);
    expect(request).toMatchObject({ parentSpanId: callerSpan, name: 'POST /genesys/v1/customer-lookup', encoding: 'protobuf' });
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/genesys/v1/customer-lookup', 'url.path': '/genesys/v1/customer-lookup', 'http.response.status_code': 200 });

    // one resolution span per source under it, each served by a live call
    for (const source of ['salesforce', 'sap', 'servicenow']) {
      const span = resolution(spans, source) as ReceivedSpan;
      expect(span, source).toMatchObject({ kind: 'internal', parentSpanId: request.spanId, status: { code: 0 } });
      expect(span.attributes, source).toMatchObject({ 'c360.source': source, 'c360.cache': 'miss', 'c360.status': 'ok' });
    }

    // every CRM call: an HTTP client span under its source's resolution, and the CRM saw exactly that span as its parent
    const clients = spans.filter(isHttpClient);
    const ports: Record<string, number> = Object.fromEntries((['salesforce', 'sap', 'servicenow'] as const).map((s) => [s, Number(new URL(sims[s].url).port)]));
    for (const span of clients) {
      const source = String(span.attributes['c360.source']);
      expect(span.parentSpanId, span.name).toBe(resolution(spans, source)?.spanId);
      expect(span.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': ports[source], 'http.response.status_code': 200 });
      expect(['GET', 'POST']).toContain(span.attributes['http.request.method']);
    }
    expect(calls.map((c) => c.parent).sort()).toEqual(clients.map((s) => s.spanId).sort());
    expect(calls.every((c) => c.flags === '01')).toBe(true);

    // Redis commands (cache read, the per-customer lock, the write) are spans of the same trace
    const redisSpans = spans.filter(isRedis);
    expect(redisSpans.length).toBeGreaterThanOrEqual(3);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const span of redisSpans) {
      expect(span.kind).toBe('client');
      expect(ids.has(span.parentSpanId ?? '')).toBe(true);
    }
    // the customer's parts are read once for all sources, under the request or the resolution that asked first
    const readers = new Set([request.spanId, ...spans.filter((s) => s.name.startsWith('resolve ')).map((s) => s.spanId)]);
    expect(redisSpans.some((s) => readers.has(s.parentSpanId ?? '') && s.attributes['db.operation.name'] === 'MGET')).toBe(true);

    // the resource names the service as configured
    expect(request.resource).toMatchObject({ 'service.name': 'customer360-test', 'deployment.environment.name': 'test', 'service.namespace': 'contact-center' });
    expect(receiver.contentTypes.every((t) => t === 'application/x-protobuf')).toBe(true);

    // the request's log line carries the trace, its span and the correlation id
    const lines = await logLines(svc, answer.correlationId);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatchObject({ correlationId: answer.correlationId, trace_id: traceId, trace_flags: '01' });
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ span_id: request.spanId });
  });

  it('the same customer again: every source a cache hit, no CRM call', async () => {
    const svc = service();
    // a customer no other test of this process asks for: its near cache outlives the Redis flush between tests
    // fills the cache: an answer does not wait for its cache writes; the trace shows them landed when
    // the parts stored are announced to the other replicas (one PUBLISH for the parts of one turn)
    const warm = newTraceId();
    expect((await customAction(svc, { customerId: DEMO.apostrophe }, { traceparent: traceparent(warm, newSpanId()) })).status).toBe(200);
    await receiver.trace(warm, (s) => s.some((x) => x.attributes['db.operation.name'] === 'PUBLISH'));
    sims.salesforce.resetCalls();
    sims.sap.resetCalls();
    sims.servicenow.resetCalls();
    const traceId = newTraceId();
    expect((await customAction(svc, { customerId: DEMO.apostrophe }, { traceparent: traceparent(traceId, newSpanId()) })).status).toBe(200);
    const spans = await receiver.trace(traceId, (s) => server(s).length === 1 && ['salesforce', 'sap', 'servicenow'].every((src) => resolution(s, src)));
    for (const source of ['salesforce', 'sap', 'servicenow']) expect(resolution(spans, source)?.attributes).toMatchObject({ 'c360.cache': 'hit', 'c360.status': 'ok' });
    expect(spans.filter(isHttpClient)).toEqual([]);
    expect(crmRequests()).toEqual([]);
    // served from this process's near cache: no Redis round trip at all
    expect(spans.filter(isRedis)).toEqual([]);
    // the whole trace of an answer from the cache: the request and three resolutions
    expect(spans.length).toBe(4);
  });

  it('starts a trace of its own without a (valid) traceparent, and leaves probes untraced', async () => {
    const svc = service();
    const first = await customAction(svc, { customerId: DEMO_CUSTOMERS[2].customerId }, { traceparent: 'not-a-trace' });
    const second = await customAction(svc, { customerId: DEMO_CUSTOMERS[3].customerId });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((await fetch(`${svc.url}/health/ready`)).status).toBe(200);
    expect(crmRequests().length).toBeGreaterThanOrEqual(4); // each carries a traceparent
    const traceIds = [...new Set(sims.sap.requests().map((r) => r.traceparent?.split('-')[1]))];
    expect(traceIds).toHaveLength(2);
    for (const traceId of traceIds) {
      const spans = await receiver.trace(traceId as string, (s) => server(s).length === 1);
      expect(server(spans)[0].parentSpanId).toBeUndefined();
    }
    expect(receiver.spans.some((s) => String(s.attributes['url.path'] ?? '').startsWith('/health'))).toBe(false);
  });

  it('a look-up by phone and by e-mail: the server span names the route, not the path and query', async () => {
    const svc = service();
    const customer = demoCustomer(DEMO.manyTickets);
    const traceId = newTraceId();
    const byPhone = await customAction(svc, { phone: customer.phone }, { traceparent: traceparent(traceId, newSpanId()) });
    expect(byPhone.status).toBe(200);
    await receiver.trace(traceId, (s) => server(s).length === 1);
    const emailTrace = newTraceId();
    const byEmail = await fetch(`${svc.url}/v1/customers?email=${encodeURIComponent(customer.email)}`, { headers: { traceparent: traceparent(emailTrace, newSpanId()) } });
    expect(byEmail.status).toBe(200);
    const spans = await receiver.trace(emailTrace, (s) => server(s).length === 1);
    expect(server(spans)[0].attributes).toMatchObject({ 'http.route': '/v1/customers', 'url.path': '/v1/customers' });
  });
});

describe('tracing on, OTLP over http/json: a degraded answer', () => {
  // one failed call is enough to open a breaker here (production: 10 in a minute); ServiceNow's own
  // call timeout above the deadline: a slow answer misses this request but still lands in the cache
  const service = serviceFor({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', BREAKER_MIN_CALLS: '1', RETRY_MAX_ATTEMPTS: '3', AGGREGATION_DEADLINE_MS: '800', SERVICENOW_TIMEOUT_MS: '3000' });

  it('shows why: SAP failing after retries, ServiceNow past the deadline, Salesforce on time', async () => {
    const svc = service();
    const exportsBefore = receiver.contentTypes.length;
    sims.sap.setFaults({ forcedStatus: 503 });
    sims.servicenow.setFaults({ latencyMs: 1500 });
    const traceId = newTraceId();
    const answer = await customAction(svc, { customerId: DEMO.decimalTrap }, { traceparent: traceparent(traceId, newSpanId()) });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'degraded', data: { customerView: { degradedSources: 'sap,servicenow' } } });
    // the late ServiceNow calls still finish (to warm the cache): the trace is complete once they have
    const spans = await receiver.trace(
      traceId,
      (s) => server(s).length === 1 && s.filter((x) => isHttpClient(x) && x.attributes['c360.source'] === 'servicenow').length === 2,
    );
    expect(spans.every((s) => s.encoding === 'json')).toBe(true);
    expect(receiver.contentTypes.slice(exportsBefore).every((t) => t === 'application/json')).toBe(true);

    const sap = resolution(spans, 'sap') as ReceivedSpan;
    expect(sap.attributes).toMatchObject({ 'c360.status': 'unavailable', 'c360.cache': 'none', 'c360.reason': 'unavailable' });
    expect(sap.status.code).toBe(2);
    // each retry is an event on the source's span and a new HTTP span counting its resends
    const retries = sap.events.filter((e) => e.name === 'retry');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    for (const e of retries) expect(e.attributes).toMatchObject({ 'c360.source': 'sap', 'c360.reason': 'unavailable' });
    // (when one of SAP's two reads has failed for good, the other is stopped: its last try may have no answer)
    const sapCalls = spans.filter((s) => isHttpClient(s) && s.attributes['c360.source'] === 'sap');
    expect(sapCalls.length).toBeGreaterThan(2);
    expect(sapCalls.every((s) => s.status.code === 2 && [503, undefined].includes(s.attributes['http.response.status_code'] as number | undefined))).toBe(true);
    const resent = sapCalls.filter((s) => s.attributes['http.request.resend_count'] !== undefined);
    expect(resent.length).toBeGreaterThanOrEqual(1);
    const attempts = new Set(retries.map((e) => e.attributes['c360.attempt']));
    for (const s of resent) expect(attempts).toContain(Number(s.attributes['http.request.resend_count']) + 1);

    const servicenow = resolution(spans, 'servicenow') as ReceivedSpan;
    expect(servicenow.attributes).toMatchObject({ 'c360.status': 'timeout', 'c360.reason': 'timeout' });
    expect(servicenow.status).toMatchObject({ code: 2, message: 'timeout: timeout' });
    const [request] = server(spans);
    const ms = (ns: bigint) => Number(ns) / 1e6;
    // the answer left at the deadline; the ServiceNow calls ran on beyond it and were answered (their result is cached)
    expect(ms(request.endNs - request.startNs)).toBeLessThan(1500);
    const serviceNowCalls = spans.filter((s) => isHttpClient(s) && s.attributes['c360.source'] === 'servicenow');
    for (const call of serviceNowCalls) {
      expect(call.endNs).toBeGreaterThan(request.endNs);
      expect(call.attributes['http.response.status_code']).toBe(200);
    }
    expect(resolution(spans, 'salesforce')?.attributes).toMatchObject({ 'c360.status': 'ok', 'c360.cache': 'miss' });

    // the picture for the README: test-artifacts/ always; docs/ when asked (see README "Logs and traces")
    const svg = waterfallSvg(spans, {
      title: 'A degraded screen pop, as the OTLP receiver got it',
      subtitle: 'POST /genesys/v1/customer-lookup: SAP answers 503 (retried, then given up), ServiceNow takes 1.5 s (too late for this answer, cached for the next), Salesforce on time',
      markers: [{ ms: 800, label: 'deadline 800 ms' }],
      hide: isRedis,
      hiddenNote: '{n} Redis command spans (cache read, lock, write) not drawn',
    });
    expect((svg.match(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="12"/g) ?? []).length).toBe(spans.filter((s) => !isRedis(s)).length);
    for (const path of ['../../test-artifacts/trace-degraded.svg', ...(process.env.TRACE_PICTURE ? [`../../${process.env.TRACE_PICTURE}`] : [])]) {
      const file = fileURLToPath(new URL(path, import.meta.url));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, svg);
    }
  });

  it('a breaker refusal is an event on the source\'s span, and every log line of the request carries its trace', async () => {
    const svc = service();
    sims.sap.setFaults({ forcedStatus: 503 });
    // SAP failing opens its breaker (if an earlier request has not already)
    expect((await customAction(svc, { customerId: DEMO_CUSTOMERS[11].customerId })).status).toBe(200);
    sims.sap.resetCalls();
    const traceId = newTraceId();
    const answer = await customAction(svc, { customerId: DEMO_CUSTOMERS[10].customerId }, { traceparent: traceparent(traceId, newSpanId()) });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('degraded');
    expect(String(answer.body.data.customerView.degradedSources).split(',')).toContain('sap');
    const spans = await receiver.trace(traceId, (s) => server(s).length === 1 && resolution(s, 'sap') !== undefined);
    const sap = resolution(spans, 'sap') as ReceivedSpan;
    expect(sap.attributes).toMatchObject({ 'c360.status': 'unavailable', 'c360.reason': 'circuit_open' });
    expect(sap.events.map((e) => e.name)).toContain('breaker refused the call');
    expect(sap.events.find((e) => e.name === 'breaker refused the call')?.attributes).toMatchObject({ 'c360.source': 'sap', 'c360.breaker.state': 'open' });
    expect(spans.filter((s) => isHttpClient(s) && s.attributes['c360.source'] === 'sap')).toHaveLength(0);
    expect(sims.sap.requests()).toHaveLength(0);
    for (const line of await logLines(svc, answer.correlationId)) expect(line).toMatchObject({ trace_id: traceId });
  });
});

describe('tracing on, 0 % sampled unless the caller sampled: a rate-limit wait', () => {
  const service = serviceFor({
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0',
    // ServiceNow's two reads for one customer cannot share a second: the second waits for the next
    SERVICENOW_RATE_LIMIT_PER_SEC: '1',
    RATE_LIMIT_MAX_WAIT_MS: '2500',
    AGGREGATION_DEADLINE_MS: '3000',
  });

  it('records the wait as an event, between the two calls', async () => {
    const svc = service();
    const traceId = newTraceId();
    const answer = await customAction(svc, { customerId: DEMO_CUSTOMERS[20].customerId }, { traceparent: traceparent(traceId, newSpanId()) });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ok' });
    const spans = await receiver.trace(traceId, (s) => server(s).length === 1 && resolution(s, 'servicenow') !== undefined);
    const servicenow = resolution(spans, 'servicenow') as ReceivedSpan;
    const wait = servicenow.events.find((e) => e.name === 'rate limit wait');
    expect(wait?.attributes).toMatchObject({ 'c360.source': 'servicenow' });
    expect(Number(wait?.attributes['c360.wait_ms'])).toBeGreaterThan(0);
    // the two reads start together: one gets the second's slot, the other waits for the next second
    const calls = spans.filter((s) => isHttpClient(s) && s.attributes['c360.source'] === 'servicenow').sort((a, b) => Number(a.startNs - b.startNs));
    expect(calls).toHaveLength(2);
    const waitedMs = Number(calls[1].startNs - (wait?.timeNs ?? 0n)) / 1e6;
    expect(waitedMs).toBeGreaterThanOrEqual(Number(wait?.attributes['c360.wait_ms']) - 1);
  });

  it('a request the sampler drops exports nothing, yet its CRM calls and log lines carry its trace', async () => {
    const svc = service();
    const before = receiver.spans.length;
    const answer = await customAction(svc, { customerId: DEMO_CUSTOMERS[21].customerId });
    expect(answer.status).toBe(200);
    const calls = crmRequests().filter((c) => c.flags === '00');
    expect(calls.length).toBeGreaterThanOrEqual(5);
    const [line] = await logLines(svc, answer.correlationId);
    expect(line).toMatchObject({ trace_flags: '00' });
    const traceId = line.trace_id as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // a sampled request made after it is exported; the dropped one never is
    const sampled = newTraceId();
    expect((await customAction(svc, { customerId: DEMO_CUSTOMERS[22].customerId }, { traceparent: traceparent(sampled, newSpanId()) })).status).toBe(200);
    await receiver.trace(sampled, (s) => server(s).length === 1);
    expect(receiver.spans.slice(before).some((s) => s.traceId === traceId)).toBe(false);
  });
});

describe('what the spans carry', () => {
  it('no customer data, phone number, e-mail, query string, token or secret, in any span of this file', () => {
    expect(receiver.spans.length).toBeGreaterThan(100);
    const customers = [DEMO.healthy, DEMO.manyTickets, DEMO.decimalTrap, ...[2, 3, 10, 11, 20, 21, 22].map((i) => DEMO_CUSTOMERS[i].customerId)].map(demoCustomer);
    const forbidden = [
      ...customers.flatMap((c) => [c.customerId, c.phone, c.phone.slice(1), c.email, c.name, c.salesforceId, c.sapBusinessPartner, c.serviceNowCompanySysId]),
      ...Object.values(SANDBOX_CREDENTIALS).flatMap((c) => Object.values(c).filter((v) => v.length >= 8)),
      ...Object.values(SANDBOX_INBOUND),
      '?', 'SELECT', 'FIND {', '$filter', 'sysparm', 'Bearer', 'Basic ',
    ];
    const texts = (span: ReceivedSpan): string[] => {
      const flat = (v: AttributeValue): string[] => (v === null ? [] : Array.isArray(v) ? v.flatMap(flat) : typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...flat(x)]) : [String(v)]);
      const attrs = (a: Record<string, AttributeValue>) => Object.entries(a).flatMap(([k, v]) => [k, ...flat(v)]);
      return [span.name, span.status.message ?? '', ...attrs(span.attributes), ...span.events.flatMap((e) => [e.name, ...attrs(e.attributes)])];
    };
    const found = receiver.spans.flatMap((span) => texts(span).flatMap((t) => forbidden.filter((f) => t.includes(f)).map((f) => `${span.name}: "${f}" in "${t}"`)));
    expect(found).toEqual([]);
    const keys = new Set(receiver.spans.flatMap((s) => Object.keys(s.attributes)));
    expect([...keys].filter((k) => /header|url\.query|stacktrace|db\.statement/.test(k))).toEqual([]);
  });
});
