import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, DEMO_CUSTOMERS, demoCustomer } from '../shared/seed.js';
import { SERVICENOW_LIMITS, ServiceNowSimulator } from './servicenow.simulator.js';

const CREDS = SANDBOX_CREDENTIALS.servicenow;
const BASIC = `Basic ${Buffer.from(`${CREDS.username}:${CREDS.password}`).toString('base64')}`;
const AUTH_ENVELOPE = {
  error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
  status: 'failure',
};

let clock = Date.UTC(2026, 10, 20, 9, 0, 0, 250);
const sim = new ServiceNowSimulator({ now: () => clock });

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  clock = Date.UTC(2026, 10, 20, 9, 0, 0, 250);
});

function get(path: string, auth: string | null = BASIC): Promise<Response> {
  return fetch(`${sim.url}${path}`, { headers: auth ? { authorization: auth, accept: 'application/json' } : {} });
}

function tokenRequest(form: Record<string, string>): Promise<Response> {
  return fetch(`${sim.url}/oauth_token.do`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

async function bearerToken(): Promise<string> {
  const res = await tokenRequest({ grant_type: 'client_credentials', client_id: CREDS.clientId, client_secret: CREDS.clientSecret });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const q = (s: string) => encodeURIComponent(s);
const healthy = demoCustomer(DEMO.healthy);
const many = demoCustomer(DEMO.manyTickets);

describe('authentication', () => {
  it('accepts Basic auth with the integration user', async () => {
    const res = await get('/api/now/table/core_company?sysparm_limit=1');
    expect(res.status).toBe(200);
  });

  it('refuses a missing or wrong Basic credential with the ServiceNow 401 envelope', async () => {
    for (const auth of [null, `Basic ${Buffer.from(`${CREDS.username}:nope`).toString('base64')}`, 'Bearer not-a-token']) {
      const res = await get('/api/now/table/incident', auth);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(AUTH_ENVELOPE);
    }
  });

  it('issues an OAuth token (client_credentials) in ServiceNow shape and accepts it as Bearer', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials', client_id: CREDS.clientId, client_secret: CREDS.clientSecret });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(body).toMatchObject({ scope: 'useraccount', token_type: 'Bearer', expires_in: 1799 });
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.refresh_token).toBe('string');
    expect(sim.callCount('token')).toBe(1);
    const api = await get('/api/now/table/core_company?sysparm_limit=1', `Bearer ${String(body.access_token)}`);
    expect(api.status).toBe(200);
  });

  it('issues a token for the password grant and refuses bad credentials with the OAuth error body', async () => {
    const ok = await tokenRequest({
      grant_type: 'password',
      username: CREDS.username,
      password: CREDS.password,
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
    });
    expect(ok.status).toBe(200);
    const badUser = await tokenRequest({
      grant_type: 'password',
      username: CREDS.username,
      password: 'wrong',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
    });
    expect(badUser.status).toBe(401);
    expect(await badUser.json()).toEqual({ error_description: 'access_denied', error: 'server_error' });
    const badClient = await tokenRequest({ grant_type: 'client_credentials', client_id: CREDS.clientId, client_secret: 'wrong' });
    expect(badClient.status).toBe(401);
    expect(await badClient.json()).toEqual({ error_description: 'access_denied', error: 'server_error' });
  });

  it('expires tokens after faults.tokenTtlMs (and says so in expires_in) → 401 envelope', async () => {
    sim.setFaults({ tokenTtlMs: 60_000 });
    const res = await tokenRequest({ grant_type: 'client_credentials', client_id: CREDS.clientId, client_secret: CREDS.clientSecret });
    const body = (await res.json()) as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(60);
    expect((await get('/api/now/table/incident?sysparm_limit=1', `Bearer ${body.access_token}`)).status).toBe(200);
    clock += 60_000;
    const expired = await get('/api/now/table/incident?sysparm_limit=1', `Bearer ${body.access_token}`);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual(AUTH_ENVELOPE);
  });

  it('expires tokens after the native 1799 s lifetime and on /__sim/expire-tokens', async () => {
    const token = await bearerToken();
    clock += 1_798_000;
    expect((await get('/api/now/stats/incident?sysparm_count=true', `Bearer ${token}`)).status).toBe(200);
    clock += 1_000;
    expect((await get('/api/now/stats/incident?sysparm_count=true', `Bearer ${token}`)).status).toBe(401);

    const fresh = await bearerToken();
    await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' });
    const res = await get('/api/now/stats/incident?sysparm_count=true', `Bearer ${fresh}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(AUTH_ENVELOPE);
  });
});

describe('Table API', () => {
  it('returns a company by customer number with every value a string', async () => {
    const res = await get(`/api/now/table/core_company?sysparm_query=${q(`u_customer_number=${healthy.customerId}`)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { result: Array<Record<string, unknown>> };
    expect(body.result).toHaveLength(1);
    expect(body.result[0]).toMatchObject({
      sys_id: healthy.serviceNowCompanySysId,
      name: healthy.name,
      u_customer_number: healthy.customerId,
      phone: healthy.phone,
      city: healthy.city,
      country: healthy.country,
    });
    for (const v of Object.values(body.result[0])) expect(typeof v).toBe('string');
  });

  it('does not hold customers that are absent from ServiceNow', async () => {
    const res = await get(`/api/now/table/core_company?sysparm_query=${q(`u_customer_number=${DEMO.missingFromServiceNow}`)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: [] });
    expect(res.headers.get('x-total-count')).toBe('0');
    const present = DEMO_CUSTOMERS.filter((c) => c.presentIn.servicenow).length;
    const all = await get('/api/now/table/core_company');
    expect(all.headers.get('x-total-count')).toBe(String(present));
  });

  it('queries incidents by company reference: strings, {link,value} references, sysparm_fields', async () => {
    const res = await get(
      `/api/now/table/incident?sysparm_query=${q(`company=${healthy.serviceNowCompanySysId}^ORDERBYnumber`)}&sysparm_fields=number,state,active,company,caller_id,sys_updated_on`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: Array<Record<string, unknown>> };
    expect(body.result.map((r) => r.number)).toEqual(healthy.tickets.map((t) => t.number).sort());
    const first = body.result[0];
    const ticket = healthy.tickets.find((t) => t.number === first.number)!;
    expect(first).toEqual({
      number: ticket.number,
      state: ticket.state,
      active: ticket.active ? 'true' : 'false',
      company: { link: `${sim.url}/api/now/table/core_company/${healthy.serviceNowCompanySysId}`, value: healthy.serviceNowCompanySysId },
      caller_id: '', // an empty reference is an empty string, not an object
      sys_updated_on: ticket.updatedAt,
    });
    expect(res.headers.get('x-total-count')).toBe(String(healthy.tickets.length));
  });

  it('sends plain sys_ids for references with sysparm_exclude_reference_link=true', async () => {
    const res = await get(
      `/api/now/table/incident?sysparm_query=${q(`company=${healthy.serviceNowCompanySysId}`)}&sysparm_fields=number,company&sysparm_exclude_reference_link=true&sysparm_display_value=false`,
    );
    const body = (await res.json()) as { result: Array<Record<string, unknown>> };
    expect(body.result.length).toBeGreaterThan(0);
    for (const r of body.result) expect(r.company).toBe(healthy.serviceNowCompanySysId);
  });

  it('pages with sysparm_limit/sysparm_offset, X-Total-Count and Link rel=first/next/last', async () => {
    const query = q(`company=${many.serviceNowCompanySysId}^active=true^ORDERBYnumber`);
    const res = await get(`/api/now/table/incident?sysparm_query=${query}&sysparm_fields=number&sysparm_limit=10`);
    expect(res.headers.get('x-total-count')).toBe('25');
    const page1 = (await res.json()) as { result: Array<{ number: string }> };
    expect(page1.result).toHaveLength(10);
    const link = res.headers.get('link') ?? '';
    const rels = Object.fromEntries(
      [...link.matchAll(/<([^>]+)>;rel="(\w+)"/g)].map((m) => [m[2], new URL(m[1])]),
    );
    expect(Object.keys(rels).sort()).toEqual(['first', 'last', 'next']);
    expect(rels.next.searchParams.get('sysparm_offset')).toBe('10');
    expect(rels.last.searchParams.get('sysparm_offset')).toBe('20');
    expect(rels.next.searchParams.get('sysparm_query')).toBe(decodeURIComponent(query));

    const next = await fetch(rels.next.toString(), { headers: { authorization: BASIC } });
    const page2 = (await next.json()) as { result: Array<{ number: string }> };
    expect(page2.result).toHaveLength(10);
    expect(page2.result[0].number > page1.result[9].number).toBe(true);
    expect(next.headers.get('link')).toContain('rel="prev"');
  });

  it('fetches one record by sys_id and answers 404 in the envelope when it does not exist', async () => {
    const ticket = healthy.tickets[0];
    const res = await get(`/api/now/table/incident/${ticket.sysId}?sysparm_fields=number,short_description,opened_at`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      result: { number: ticket.number, short_description: ticket.shortDescription, opened_at: ticket.openedAt },
    });
    const missing = await get(`/api/now/table/incident/${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { message: 'No Record found', detail: "Record doesn't exist or ACL restricts the record retrieval" },
      status: 'failure',
    });
  });

  it('refuses an unknown table with 400 in the envelope', async () => {
    const res = await get('/api/now/table/sys_user_secret');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string }; status: string };
    expect(body.status).toBe('failure');
    expect(body.error.message).toBe('Invalid table sys_user_secret');
  });

  it('dot-walks company.u_customer_number on incident', async () => {
    const res = await get(
      `/api/now/table/incident?sysparm_query=${q(`company.u_customer_number=${healthy.customerId}`)}&sysparm_fields=number`,
    );
    const body = (await res.json()) as { result: Array<{ number: string }> };
    expect(body.result.map((r) => r.number).sort()).toEqual(healthy.tickets.map((t) => t.number).sort());
  });
});

describe('encoded-query hazards over HTTP', () => {
  const allActive = () => DEMO_CUSTOMERS.filter((c) => c.presentIn.servicenow).flatMap((c) => c.tickets).filter((t) => t.active);

  it('silently ignores an unknown-field term: bogus_field=1^active=true returns ALL active incidents', async () => {
    const res = await get(`/api/now/table/incident?sysparm_query=${q('bogus_field=1^active=true')}&sysparm_fields=number`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-total-count')).toBe(String(allActive().length));
  });

  it('an injected ^OR widens a customer filter to every active incident', async () => {
    const narrow = await get(`/api/now/stats/incident?sysparm_count=true&sysparm_query=${q(`company.u_customer_number=${healthy.customerId}`)}`);
    expect(await narrow.json()).toEqual({ result: { stats: { count: String(healthy.tickets.length) } } });
    const widened = await get(
      `/api/now/table/incident?sysparm_query=${q(`company.u_customer_number=${healthy.customerId}^ORactive=true`)}&sysparm_fields=number`,
    );
    const expected = new Set([...healthy.tickets, ...allActive()].map((t) => t.number));
    expect(widened.headers.get('x-total-count')).toBe(String(expected.size));
    expect(expected.size).toBeGreaterThan(healthy.tickets.length);
  });

  it('^^ keeps a caret literal: a value containing ^^OR matches nothing extra', async () => {
    const res = await get(
      `/api/now/table/incident?sysparm_query=${q(`company.u_customer_number=${healthy.customerId}^^ORactive=true`)}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: [] });
    expect(res.headers.get('x-total-count')).toBe('0');
  });
});

describe('Aggregate API', () => {
  it('counts active incidents of a company, as a string', async () => {
    const res = await get(
      `/api/now/stats/incident?sysparm_count=true&sysparm_query=${q(`active=true^company=${many.serviceNowCompanySysId}`)}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { stats: { count: unknown } } };
    expect(body).toEqual({ result: { stats: { count: '25' } } });
    expect(typeof body.result.stats.count).toBe('string');
    expect(sim.callCount('stats')).toBe(1);
  });

  it('counts zero as "0"', async () => {
    const res = await get(`/api/now/stats/incident?sysparm_count=true&sysparm_query=${q(`company=${'f'.repeat(32)}`)}`);
    expect(await res.json()).toEqual({ result: { stats: { count: '0' } } });
  });
});

describe('faults in ServiceNow format', () => {
  it('rate limit: 429 with Retry-After, X-RateLimit-Limit, X-RateLimit-Reset (epoch s) and the envelope', async () => {
    sim.setFaults({ rateLimitPerSecond: 2 });
    expect((await get('/api/now/stats/incident?sysparm_count=true')).status).toBe(200);
    expect((await get('/api/now/stats/incident?sysparm_count=true')).status).toBe(200);
    const res = await get('/api/now/stats/incident?sysparm_count=true');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('x-ratelimit-limit')).toBe('2');
    expect(res.headers.get('x-ratelimit-reset')).toBe(String(Math.floor(clock / 1000) + 1));
    const body = (await res.json()) as { error: { message: string; detail: string }; status: string };
    expect(body.status).toBe('failure');
    expect(body.error.message).toBe('Rate limit exceeded');
    expect(typeof body.error.detail).toBe('string');
    expect(sim.calls().rateLimited).toBe(1);
    clock += 1000; // next window
    expect((await get('/api/now/stats/incident?sysparm_count=true')).status).toBe(200);
  });

  it('forced 500 → error envelope', async () => {
    sim.setFaults({ forcedStatus: 500 });
    const res = await get('/api/now/table/incident');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { message: string; detail: string }; status: string };
    expect(body.status).toBe('failure');
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.detail).toBe('string');
  });

  it('faults limited by route name leave other routes alone', async () => {
    sim.setFaults({ forcedStatus: 503, only: ['stats'] });
    expect((await get('/api/now/stats/incident?sysparm_count=true')).status).toBe(503);
    expect((await get('/api/now/table/incident?sysparm_limit=1')).status).toBe(200);
  });
});

describe('batched look-ups: fieldIN on the Table API and the grouped Aggregate API', () => {
  const inServiceNow = DEMO_CUSTOMERS.filter((c) => c.presentIn.servicenow);
  const activeCount = (c: (typeof DEMO_CUSTOMERS)[number]) => c.tickets.filter((t) => t.active).length;
  type Group = { stats: { count: string }; groupby_fields: Array<{ field: string; value: string }> };

  it('core_company with u_customer_numberIN every customer number (and an unknown one) returns each company once; the call carried 61 keys', async () => {
    const ids = [...DEMO_CUSTOMERS.map((c) => c.customerId), '0099999999'];
    const res = await get(`/api/now/table/core_company?sysparm_query=${q(`u_customer_numberIN${ids.join(',')}`)}&sysparm_fields=sys_id,u_customer_number&sysparm_limit=${ids.length}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: Array<{ sys_id: string; u_customer_number: string }> };
    expect(body.result).toEqual(inServiceNow.map((c) => ({ sys_id: c.serviceNowCompanySysId, u_customer_number: c.customerId })));
    expect(res.headers.get('x-total-count')).toBe(String(inServiceNow.length));
    expect(sim.batchSizes('table')).toEqual([61]);
  });

  it('one grouped count for several companies: an entry per company that has active incidents, count a string, groupby_fields [{field, value}]; none for a company without any', async () => {
    const chosen = inServiceNow.slice(0, 12);
    expect(chosen).toContain(many);
    expect(chosen.some((c) => activeCount(c) === 0)).toBe(true); // some company has no active incident: it gets no entry
    const ghost = demoCustomer(DEMO.missingFromServiceNow).serviceNowCompanySysId; // no such company at all
    const ids = [...chosen.map((c) => c.serviceNowCompanySysId), ghost];
    expect(ids.every((id) => !/^\d+$/.test(id))).toBe(true); // so text order is the order
    const res = await get(`/api/now/stats/incident?sysparm_count=true&sysparm_group_by=company&sysparm_query=${q(`active=true^companyIN${ids.join(',')}`)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: Group[] };
    const expected = chosen
      .filter((c) => activeCount(c) > 0)
      .map((c) => ({ stats: { count: String(activeCount(c)) }, groupby_fields: [{ field: 'company', value: c.serviceNowCompanySysId }] }))
      .sort((a, b) => (a.groupby_fields[0].value < b.groupby_fields[0].value ? -1 : 1));
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.length).toBeLessThan(chosen.length);
    expect(body).toEqual({ result: expected });
    expect(body.result.find((g) => g.groupby_fields[0].value === many.serviceNowCompanySysId)?.stats.count).toBe('25');
    expect(sim.batchSizes('stats')).toEqual([ids.length]);
  });

  it('each grouped count equals what the single-company call answers', async () => {
    const ids = inServiceNow.slice(0, 20).map((c) => c.serviceNowCompanySysId);
    const grouped = ((await (await get(`/api/now/stats/incident?sysparm_count=true&sysparm_group_by=company&sysparm_query=${q(`active=true^companyIN${ids.join(',')}`)}`)).json()) as { result: Group[] }).result;
    for (const id of ids) {
      const single = (await (await get(`/api/now/stats/incident?sysparm_count=true&sysparm_query=${q(`active=true^company=${id}`)}`)).json()) as { result: { stats: { count: string } } };
      const group = grouped.find((g) => g.groupby_fields[0].value === id);
      expect(group?.stats.count ?? '0', id).toBe(single.result.stats.count);
    }
  });

  it('no matching records: an empty result array; an unknown group-by field is ignored (the ungrouped answer)', async () => {
    const none = await get(`/api/now/stats/incident?sysparm_count=true&sysparm_group_by=company&sysparm_query=${q(`companyIN${'f'.repeat(32)}`)}`);
    expect(await none.json()).toEqual({ result: [] });
    const bogus = await get(`/api/now/stats/incident?sysparm_count=true&sysparm_group_by=bogus&sysparm_query=${q(`company=${many.serviceNowCompanySysId}`)}`);
    expect(await bogus.json()).toEqual({ result: { stats: { count: String(many.tickets.length) } } });
  });

  it('groups by two fields, dot-walks included', async () => {
    const res = await get(`/api/now/stats/incident?sysparm_count=true&sysparm_group_by=company.u_customer_number,active&sysparm_query=${q(`company=${many.serviceNowCompanySysId}`)}`);
    const body = (await res.json()) as { result: Group[] };
    const byActive = (flag: boolean) => String(many.tickets.filter((t) => t.active === flag).length);
    const expected = [false, true]
      .filter((flag) => byActive(flag) !== '0')
      .map((flag) => ({ stats: { count: byActive(flag) }, groupby_fields: [{ field: 'company.u_customer_number', value: many.customerId }, { field: 'active', value: String(flag) }] }));
    expect(body.result).toEqual(expected);
  });

  it('a read by sys_id carries one key', async () => {
    await get(`/api/now/table/core_company/${healthy.serviceNowCompanySysId}`);
    expect(sim.batchSizes('record')).toEqual([1]);
  });
});

describe("the instance's request limits", () => {
  const ids = DEMO_CUSTOMERS.filter((c) => c.presentIn.servicenow).map((c) => c.serviceNowCompanySysId);

  it('defaults, options and /__sim/limits', async () => {
    expect(SERVICENOW_LIMITS).toEqual({ maxUrlBytes: 8192, maxPaginationHeaderBytes: 8192, maxResponseBytes: null });
    expect(sim.limits).toEqual(SERVICENOW_LIMITS);
    expect(new ServiceNowSimulator({ limits: { maxResponseBytes: 1000 } }).limits.maxResponseBytes).toBe(1000);
    const put = await fetch(`${sim.url}/__sim/limits`, { method: 'PATCH', body: JSON.stringify({ maxUrlBytes: 4096 }) });
    expect(await put.json()).toEqual({ ...SERVICENOW_LIMITS, maxUrlBytes: 4096 });
  });

  it('a request target of exactly maxUrlBytes is served; one byte more is 414 Request-URI Too Large from the front end', async () => {
    const path = `/api/now/table/core_company?sysparm_fields=sys_id&pad=`;
    const target = (bytes: number) => `${path}${'a'.repeat(bytes - path.length)}`;
    expect((await get(target(8192))).status).toBe(200);
    const over = await get(target(8193));
    expect(over.status).toBe(414);
    expect(over.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await over.text()).toContain('<title>414 Request-URI Too Large</title>');
    expect(sim.calls().oversized).toBe(1);
  });

  it('a query too long for the Link header of a result that needs paging: 400 "Pagination not supported", in the instance\'s words', async () => {
    sim.setLimits({ maxPaginationHeaderBytes: 2000 });
    const query = q(`companyIN${ids.join(',')}`);
    const res = await get(`/api/now/table/incident?sysparm_query=${query}&sysparm_fields=number&sysparm_limit=10`);
    expect(res.status).toBe(400);
    const total = DEMO_CUSTOMERS.filter((c) => c.presentIn.servicenow).reduce((n, c) => n + c.tickets.length, 0);
    expect(await res.json()).toEqual({
      error: {
        message: 'Pagination not supported',
        detail: `The requested query is too long to build the response pagination header URLs. Please do one of the following: shorten the sysparm_query, or query without pagination by setting the parameter 'sysparm_suppress_pagination_header' to true, or set 'sysparm_limit' with a value larger then ${total} to bypass the need for pagination.`,
      },
      status: 'failure',
    });
  });

  it('sysparm_suppress_pagination_header=true, or a sysparm_limit the result fits in, avoids it: 200 without a Link header', async () => {
    sim.setLimits({ maxPaginationHeaderBytes: 2000 });
    const query = q(`companyIN${ids.join(',')}`);
    const suppressed = await get(`/api/now/table/incident?sysparm_query=${query}&sysparm_fields=number&sysparm_limit=10&sysparm_suppress_pagination_header=true`);
    expect(suppressed.status).toBe(200);
    expect(suppressed.headers.get('link')).toBeNull();
    expect(((await suppressed.json()) as { result: unknown[] }).result).toHaveLength(10);
    const fits = await get(`/api/now/table/core_company?sysparm_query=${q(`sys_idIN${ids.join(',')}`)}&sysparm_fields=sys_id&sysparm_limit=${ids.length}`);
    expect(fits.status).toBe(200);
    expect(fits.headers.get('link')).toBeNull();
    expect(((await fits.json()) as { result: unknown[] }).result).toHaveLength(ids.length);
    // a short query still gets its links
    const short = await get(`/api/now/table/core_company?sysparm_fields=sys_id&sysparm_limit=5`);
    expect(short.headers.get('link')).toContain('rel="next"');
  });

  it('at the default bound, a paged query well within the URL bound fails: the Link header repeats it three or four times', async () => {
    const query = q(`companyIN${[...ids, ...ids].join(',')}`);
    expect(query.length).toBeGreaterThan(8192 / 3);
    expect(query.length).toBeLessThan(8192 - 200);
    expect((await get(`/api/now/table/incident?sysparm_query=${query}&sysparm_fields=number&sysparm_limit=10`)).status).toBe(400);
    expect((await get(`/api/now/table/incident?sysparm_query=${query}&sysparm_fields=number&sysparm_limit=10&sysparm_offset=10`)).status).toBe(400);
  });

  it('maxResponseBytes (off by default): a larger Table API answer arrives as a 200 whose JSON is cut at the cap', async () => {
    const url = `/api/now/table/incident?sysparm_fields=number,short_description`;
    const whole = await get(url);
    expect(((await whole.json()) as { result: unknown[] }).result.length).toBeGreaterThan(100);
    sim.setLimits({ maxResponseBytes: 1000 });
    const cut = await get(url);
    expect(cut.status).toBe(200);
    const text = await cut.text();
    expect(Buffer.byteLength(text)).toBe(1000);
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect((await get(`/api/now/table/core_company/${healthy.serviceNowCompanySysId}`)).status).toBe(200);
  });
});
