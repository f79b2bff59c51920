/**
 * The SAP simulator's `$batch` as a gateway answers it, over HTTP: each retrieve operation answered
 * as the same GET (same paging, same errors) in an `application/http` part of a 202 multipart
 * answer, the CSRF token required as for any POST, one call for the counters and the rate limit,
 * and its bounds (operations, body bytes) refused with the gateway's and the ICM's errors.
 */
import { describe, expect, it } from 'vitest';

import { parseBatchResponse } from '../../../src/connectors/sap/sap.batch.js';
import { DEMO, demoCustomer } from '../shared/seed.js';
import { SAP_BASIC_AUTH, startedSapSimulator } from './started-simulator.js';

const AUTH = SAP_BASIC_AUTH;
const CUBE = '/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV';
const BP = '/sap/opu/odata/sap/API_BUSINESS_PARTNER';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed vendor JSON in assertions
type Json = Record<string, any>;

const sim = startedSapSimulator();

const openItems = (customers: string[]) =>
  `A_OperationalAcctgDocItemCube?$filter=${encodeURIComponent(`(${customers.map((c) => `Customer eq '${c}'`).join(' or ')}) and IsCleared eq false`)}&$select=Customer,AmountInCompanyCodeCurrency&$inlinecount=allpages&$format=json`;

function body(targets: string[], boundary = 'batch_1', eol = '\r\n'): string {
  return targets.map((t) => [`--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', '', `GET ${t} HTTP/1.1`, 'Accept: application/json', '', ''].join(eol)).join(eol) + `${eol}--${boundary}--${eol}`;
}

async function csrf(): Promise<{ token: string; cookie: string }> {
  const res = await fetch(`${sim.url}${CUBE}/`, { headers: { authorization: AUTH, 'x-csrf-token': 'Fetch' } });
  return { token: res.headers.get('x-csrf-token') ?? '', cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
}

async function batch(service: string, text: string, session?: { token: string; cookie: string }, contentType = 'multipart/mixed; boundary=batch_1'): Promise<Response> {
  const s = session ?? (await csrf());
  sim.resetCalls();
  return fetch(`${sim.url}${service}/$batch?sap-client=100`, { method: 'POST', body: text, headers: { authorization: AUTH, 'content-type': contentType, 'x-csrf-token': s.token, cookie: s.cookie } });
}

async function parts(res: Response, expected: number) {
  expect(res.status).toBe(202);
  return parseBatchResponse(res.headers.get('content-type') ?? undefined, await res.text(), expected).map((p) => ({ ...p, json: p.status === 200 ? (JSON.parse(p.body) as Json) : (JSON.parse(p.body) as Json) }));
}

describe('SAP simulator: $batch of retrieve operations', () => {
  const many = demoCustomer(DEMO.manyOpenItems);
  const healthy = demoCustomer(DEMO.healthy);

  it('answers each GET as on its own, in order: paging (__next), __count, a 404 and a bad filter in their own parts; one call', async () => {
    const res = await batch(CUBE, body([openItems([many.customerId, healthy.customerId]), "A_OperationalAcctgDocItemCube('nope')", 'A_OperationalAcctgDocItemCube?$filter=Customer%20eq%20%27x%27%20and', 'Nowhere']));
    expect(res.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=/);
    const [items, badKey, badFilter, nowhere] = await parts(res, 4);
    const open = [...many.openItems, ...healthy.openItems].filter((i) => !i.cleared);
    expect(items!.status).toBe(200);
    expect(items!.json.d.results).toHaveLength(100);
    expect(items!.json.d.__count).toBe(String(open.length));
    expect(items!.json.d.__next).toContain('$skiptoken=100');
    expect(items!.json.d.__next).toContain(`${CUBE}/A_OperationalAcctgDocItemCube?`);
    expect(badKey!.status).toBe(404);
    expect(badFilter!.status).toBe(400);
    expect(badFilter!.json.error.message.value).toContain('Invalid filter expression');
    expect(nowhere!.status).toBe(404);
    // one HTTP call, its keys those of its operations
    const calls = sim.calls();
    expect(calls.total).toBe(1);
    expect(calls.byRoute).toEqual({ batch: 1 });
    expect(calls.batches.batch).toMatchObject({ calls: 1, keys: 2 });
    expect(sim.operations().map((o) => [o.route, o.status, o.batchSize])).toEqual([
      ['openItems', 200, 2],
      ['unmatched', 404, undefined], // the cube has no entity by key
      ['openItems', 400, undefined],
      ['unmatched', 404, undefined],
    ]);
  });

  it('the next page link followed in a second $batch gives the next page (relative or absolute path targets, LF line breaks too)', async () => {
    const first = (await parts(await batch(CUBE, body([openItems([many.customerId])])), 1))[0]!.json.d;
    const next = new URL(first.__next as string);
    const second = (await parts(await batch(CUBE, body([`${next.pathname}${next.search}`], 'b2', '\n'), undefined, 'multipart/mixed; boundary="b2"'), 1))[0]!.json.d;
    expect(second.results).toHaveLength(100);
    expect(second.__next).toContain('$skiptoken=200');
  });

  it('customers of the business-partner service; an operation of another service is not a resource of this one', async () => {
    const [customers, other] = await parts(await batch(BP, body([`A_Customer?$filter=${encodeURIComponent(`Customer eq '${healthy.customerId}' or Customer eq '0019999999'`)}&$format=json`, openItems([healthy.customerId])])), 2);
    expect(customers!.json.d.results.map((c: Json) => c.Customer)).toEqual([healthy.customerId]);
    expect(other!.status).toBe(404);
  });

  it('requires the CSRF token like any POST', async () => {
    const res = await batch(CUBE, body([openItems([healthy.customerId])]), { token: 'forged', cookie: '' });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-csrf-token')).toBe('Required');
  });

  it('refuses malformed bodies with a 400 OData error, never a simulator failure', async () => {
    for (const [text, type] of [
      [body([openItems([healthy.customerId])]).replace('--batch_1--', ''), undefined],
      ['--batch_1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--batch_1--\r\n', undefined],
      ['--batch_1\r\nContent-Type: application/http\r\n\r\nGET\r\n--batch_1--\r\n', undefined],
      [body([openItems([healthy.customerId])]), 'application/json'],
    ] as const) {
      const res = await batch(CUBE, text, undefined, type);
      expect(res.status, text).toBe(400);
      expect(((await res.json()) as Json).error.message.value).toContain('Invalid batch request');
    }
  });

  it('bounds: more operations than maxBatchOperations is a 400, a body over maxBatchBytes a 413 from the ICM', async () => {
    sim.setLimits({ maxBatchOperations: 2 });
    const three = body([openItems(['0010100001']), openItems(['0010100002']), openItems(['0010100003'])]);
    const res = await batch(CUBE, three);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message.value).toContain('at most 2');
    sim.setLimits({ maxBatchOperations: null, maxBatchBytes: 500 });
    const big = await batch(CUBE, three);
    expect(big.status).toBe(413);
    expect(sim.calls().oversized).toBe(1);
  });

  it('faults apply to the $batch as one call: the rate limit counts it once, malformed breaks the whole answer', async () => {
    const session = await csrf();
    sim.setFaults({ rateLimitPerSecond: 1 });
    expect((await batch(CUBE, body([openItems(['0010100001']), openItems(['0010100002'])]), session)).status).toBe(202);
    sim.setFaults({ rateLimitPerSecond: null, malformed: 'truncated' });
    const res = await batch(CUBE, body([openItems(['0010100001'])]), session);
    expect(res.status).toBe(202);
    expect(() => parseBatchResponse(res.headers.get('content-type') ?? undefined, '', 1)).toThrow(/unreadable \$batch answer/);
    const text = await res.text();
    expect(() => parseBatchResponse(res.headers.get('content-type') ?? undefined, text, 1)).toThrow(/unreadable \$batch answer/);
  });
});
