import { connect } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, DEMO_CUSTOMERS, demoCustomer } from '../shared/seed.js';
import { SALESFORCE_LIMITS, SalesforceSimulator } from './salesforce.simulator.js';

const BASE_CLOCK = Date.UTC(2026, 10, 2, 9, 0, 0, 250);
let clock = BASE_CLOCK;
const now = () => clock;
const SF_COUNT = DEMO_CUSTOMERS.filter((c) => c.presentIn.salesforce).length;

const sim = new SalesforceSimulator({ now });
const paged = new SalesforceSimulator({ now, pageSize: 5 });

beforeAll(async () => {
  await sim.start();
  await paged.start();
});

afterAll(async () => {
  await sim.stop();
  await paged.stop();
});

beforeEach(() => {
  clock = BASE_CLOCK;
  sim.reset();
  paged.reset();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
type Json = any;

async function tokenFor(s: SalesforceSimulator, form?: Record<string, string>): Promise<Response> {
  const body = new URLSearchParams(form ?? { grant_type: 'client_credentials', client_id: SANDBOX_CREDENTIALS.salesforce.clientId, client_secret: SANDBOX_CREDENTIALS.salesforce.clientSecret });
  return fetch(`${s.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

async function accessToken(s: SalesforceSimulator = sim): Promise<string> {
  const res = await tokenFor(s);
  expect(res.status).toBe(200);
  return ((await res.json()) as Json).access_token as string;
}

function get(path: string, token?: string, s: SalesforceSimulator = sim): Promise<Response> {
  return fetch(`${s.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

function soql(q: string, token?: string, s: SalesforceSimulator = sim): Promise<Response> {
  return get(`/services/data/v66.0/query?q=${encodeURIComponent(q)}`, token, s);
}

function sosl(q: string, token?: string, slash = '/'): Promise<Response> {
  return get(`/services/data/v66.0/search${slash}?q=${encodeURIComponent(q)}`, token);
}

/** Escapes a value for a SOQL string literal the way a client must. */
function soqlEscape(v: string): string {
  return v.replace(/[\\']/g, (c) => `\\${c}`);
}

async function expectSfError(res: Response, status: number, errorCode: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Json;
  expect(Array.isArray(body)).toBe(true);
  expect(body).toHaveLength(1);
  expect(body[0].errorCode).toBe(errorCode);
  expect(typeof body[0].message).toBe('string');
  return body[0].message as string;
}

describe('OAuth token (client credentials)', () => {
  it('answers the Salesforce token shape: issued_at a string of epoch ms, no expires_in', async () => {
    const res = await tokenFor(sim);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Json;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'signature', 'token_type']);
    expect(body).not.toHaveProperty('expires_in');
    expect(body.issued_at).toBe(String(BASE_CLOCK));
    expect(typeof body.issued_at).toBe('string');
    expect(body.token_type).toBe('Bearer');
    expect(body.scope).toBe('api');
    expect(body.instance_url).toBe(sim.url);
    expect(body.id).toMatch(new RegExp(`^${sim.url.replace(/\./g, '\\.')}/id/00D[A-Za-z0-9]{15}/005[A-Za-z0-9]{15}$`));
    expect(body.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(body.access_token.length).toBeGreaterThan(20);
    expect(sim.callCount('token')).toBe(1);
  });

  it('refuses a wrong secret or client id with 400 invalid_client', async () => {
    const forms: Array<Record<string, string>> = [
      { grant_type: 'client_credentials', client_id: SANDBOX_CREDENTIALS.salesforce.clientId, client_secret: 'wrong' },
      { grant_type: 'client_credentials', client_id: 'someone-else', client_secret: SANDBOX_CREDENTIALS.salesforce.clientSecret },
      { grant_type: 'client_credentials' },
    ];
    for (const form of forms) {
      const res = await tokenFor(sim, form);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_client', error_description: 'invalid client credentials' });
    }
  });

  it('refuses another grant type with 400 unsupported_grant_type', async () => {
    const res = await tokenFor(sim, { grant_type: 'password', client_id: SANDBOX_CREDENTIALS.salesforce.clientId, client_secret: SANDBOX_CREDENTIALS.salesforce.clientSecret });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
  });

  it('accepts credentials from the options', async () => {
    const custom = await new SalesforceSimulator({ clientId: 'cid', clientSecret: 'csecret' }).start();
    try {
      expect((await tokenFor(custom, { grant_type: 'client_credentials', client_id: 'cid', client_secret: 'csecret' })).status).toBe(200);
      expect((await tokenFor(custom)).status).toBe(400);
    } finally {
      await custom.stop();
    }
  });
});

describe('session validity', () => {
  const q = `SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.healthy}'`;

  it('answers 401 INVALID_SESSION_ID without a token or with an unknown one', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const res = await soql(q, token);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
  });

  it('expires tokens after faults.tokenTtlMs (fake clock); a fresh token works again', async () => {
    sim.setFaults({ tokenTtlMs: 60_000 });
    const token = await accessToken();
    expect((await soql(q, token)).status).toBe(200);
    clock += 59_999;
    expect((await soql(q, token)).status).toBe(200);
    clock += 1;
    const res = await soql(q, token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    expect((await soql(q, await accessToken())).status).toBe(200);
  });

  it('expires every issued token on POST /__sim/expire-tokens', async () => {
    const token = await accessToken();
    expect((await soql(q, token)).status).toBe(200);
    const ctl = await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' });
    expect(ctl.status).toBe(200);
    await expectSfError(await soql(q, token), 401, 'INVALID_SESSION_ID');
    await expectSfError(await sosl('FIND {Acme} IN NAME FIELDS RETURNING Account(Id)', token), 401, 'INVALID_SESSION_ID');
    expect((await soql(q, await accessToken())).status).toBe(200);
  });
});

describe('SOQL query', () => {
  it('finds one Account by Customer_Number__c, with attributes and the selected fields in order', async () => {
    const token = await accessToken();
    const c = demoCustomer(DEMO.healthy);
    const res = await soql(`SELECT Id, Name, Phone, Customer_Number__c, Loyalty_Tier__c, Last_Interaction_Date__c, Email__c, BillingCity, BillingCountry FROM Account WHERE Customer_Number__c = '${DEMO.healthy}'`, token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.totalSize).toBe(1);
    expect(body.done).toBe(true);
    expect(body).not.toHaveProperty('nextRecordsUrl');
    expect(body.records).toHaveLength(1);
    const rec = body.records[0];
    expect(Object.keys(rec)).toEqual(['attributes', 'Id', 'Name', 'Phone', 'Customer_Number__c', 'Loyalty_Tier__c', 'Last_Interaction_Date__c', 'Email__c', 'BillingCity', 'BillingCountry']);
    expect(rec).toEqual({
      attributes: { type: 'Account', url: `/services/data/v66.0/sobjects/Account/${c.salesforceId}` },
      Id: c.salesforceId,
      Name: c.name,
      Phone: c.phone,
      Customer_Number__c: c.customerId,
      Loyalty_Tier__c: c.loyaltyTier,
      Last_Interaction_Date__c: c.lastInteractionDate,
      Email__c: c.email,
      BillingCity: c.city,
      BillingCountry: c.country,
    });
    expect(rec.Last_Interaction_Date__c).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(sim.callCount('query')).toBe(1);
  });

  it('holds only the customers present in Salesforce', async () => {
    const token = await accessToken();
    const all = (await (await soql('SELECT Id FROM Account', token)).json()) as Json;
    expect(all.totalSize).toBe(SF_COUNT);
    expect(all.done).toBe(true);
    const missing = (await (await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.missingFromSalesforce}'`, token)).json()) as Json;
    expect(missing).toEqual({ totalSize: 0, done: true, records: [] });
    const only = (await (await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.onlyInSalesforce}'`, token)).json()) as Json;
    expect(only.totalSize).toBe(1);
  });

  it('pages by options.pageSize and nextRecordsUrl leads to the end', async () => {
    const token = await accessToken(paged);
    let res = await soql('SELECT Id, Name FROM Account ORDER BY Customer_Number__c', token, paged);
    const ids: string[] = [];
    let pages = 0;
    for (;;) {
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      pages++;
      expect(body.totalSize).toBe(SF_COUNT);
      expect(body.records.length).toBeLessThanOrEqual(5);
      ids.push(...body.records.map((r: Json) => r.Id as string));
      if (body.done) {
        expect(body).not.toHaveProperty('nextRecordsUrl');
        break;
      }
      expect(body.records).toHaveLength(5);
      expect(body.nextRecordsUrl).toMatch(/^\/services\/data\/v66\.0\/query\/01g[A-Za-z0-9]{15}-\d+$/);
      res = await get(body.nextRecordsUrl as string, token, paged);
    }
    expect(pages).toBe(Math.ceil(SF_COUNT / 5));
    expect(new Set(ids).size).toBe(SF_COUNT);
    const expected = DEMO_CUSTOMERS.filter((c) => c.presentIn.salesforce).map((c) => c.salesforceId);
    expect(ids).toEqual(expected);
    expect(paged.callCount('queryMore')).toBe(pages - 1);
  });

  it('answers an unknown query locator with 400 INVALID_QUERY_LOCATOR', async () => {
    const token = await accessToken(paged);
    await expectSfError(await get('/services/data/v66.0/query/01gD0000002HU6KIAW-2000', token, paged), 400, 'INVALID_QUERY_LOCATOR');
    await expectSfError(await get('/services/data/v66.0/query/garbage', token, paged), 400, 'INVALID_QUERY_LOCATOR');
  });

  it('a correctly escaped apostrophe matches exactly the one Account', async () => {
    const token = await accessToken();
    const name = demoCustomer(DEMO.apostrophe).name;
    expect(name).toBe("O'Neil & Sons");
    const res = await soql(`SELECT Id, Name, Customer_Number__c FROM Account WHERE Name = '${soqlEscape(name)}'`, token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.totalSize).toBe(1);
    expect(body.records[0].Name).toBe(name);
    expect(body.records[0].Customer_Number__c).toBe(DEMO.apostrophe);
  });

  it('an unescaped apostrophe is a syntax error, not a match', async () => {
    const token = await accessToken();
    await expectSfError(await soql("SELECT Id FROM Account WHERE Name = 'O'Neil & Sons'", token), 400, 'MALFORMED_QUERY');
  });

  it("an injection inside a properly escaped literal matches nothing; unescaped it either fails or is evaluated as written", async () => {
    const token = await accessToken();
    const attack = "x' OR Name != '";
    const escaped = (await (await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${soqlEscape(attack)}'`, token)).json()) as Json;
    expect(escaped).toEqual({ totalSize: 0, done: true, records: [] });
    // unescaped, this one parses (Customer_Number__c = 'x' OR Name != ''), and is evaluated exactly as written:
    const widened = (await (await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${attack}'`, token)).json()) as Json;
    expect(widened.totalSize).toBe(SF_COUNT);
    // other classic shapes do not parse at all
    for (const a of ["x' OR '1'='1", "x' OR Name != '' --", "x' OR Name != '' AND Name = 'y", "x\\' OR Name != '"]) {
      await expectSfError(await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${a}'`, token), 400, 'MALFORMED_QUERY');
    }
  });

  it('a backslash escape SOQL does not know is MALFORMED_QUERY', async () => {
    const token = await accessToken();
    await expectSfError(await soql(String.raw`SELECT Id FROM Account WHERE Name = 'Acme\d'`, token), 400, 'MALFORMED_QUERY');
    await expectSfError(await soql("SELECT Id FROM Account WHERE Name = 'unterminated", token), 400, 'MALFORMED_QUERY');
  });

  it('reports unknown fields, unknown objects and a missing q in Salesforce error arrays', async () => {
    const token = await accessToken();
    const msg = await expectSfError(await soql('SELECT Id, Foo__c FROM Account', token), 400, 'INVALID_FIELD');
    expect(msg).toContain("No such column 'Foo__c' on entity 'Account'");
    await expectSfError(await soql('SELECT Id FROM Contact', token), 400, 'INVALID_TYPE');
    await expectSfError(await get('/services/data/v66.0/query', token), 400, 'MALFORMED_QUERY');
  });

  it('LIKE, IN, ORDER BY and LIMIT work over HTTP', async () => {
    const token = await accessToken();
    const body = (await (await soql(`SELECT Customer_Number__c FROM Account WHERE Customer_Number__c IN ('${DEMO.healthy}', '${DEMO.apostrophe}', '${DEMO.missingFromSalesforce}') ORDER BY Customer_Number__c DESC LIMIT 5`, token)).json()) as Json;
    expect(body.records.map((r: Json) => r.Customer_Number__c)).toEqual([DEMO.apostrophe, DEMO.healthy]);
    const like = (await (await soql("SELECT Name FROM Account WHERE Name LIKE 'o\\'neil%'", token)).json()) as Json;
    expect(like.records.map((r: Json) => r.Name)).toEqual(["O'Neil & Sons"]);
  });

  it('serves the record behind attributes.url', async () => {
    const token = await accessToken();
    const c = demoCustomer(DEMO.healthy);
    const res = await get(`/services/data/v66.0/sobjects/Account/${c.salesforceId}?fields=Name,Customer_Number__c`, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ attributes: { type: 'Account', url: `/services/data/v66.0/sobjects/Account/${c.salesforceId}` }, Name: c.name, Customer_Number__c: c.customerId });
    await expectSfError(await get('/services/data/v66.0/sobjects/Account/001000000000000AAA', token), 404, 'NOT_FOUND');
  });
});

describe('SOSL search', () => {
  const phoneSearch = String.raw`FIND {\+14155550100} IN PHONE FIELDS RETURNING Account(Id,Name,Phone,Customer_Number__c)`;

  it('finds the customer by phone, with and without the trailing slash', async () => {
    const token = await accessToken();
    const c = demoCustomer(DEMO.healthy);
    expect(c.phone).toBe('+14155550100');
    for (const slash of ['/', '']) {
      const res = await sosl(phoneSearch, token, slash);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        searchRecords: [
          { attributes: { type: 'Account', url: `/services/data/v66.0/sobjects/Account/${c.salesforceId}` }, Id: c.salesforceId, Name: c.name, Phone: c.phone, Customer_Number__c: c.customerId },
        ],
      });
    }
    expect(sim.callCount('search')).toBe(2);
  });

  it('finds by email (case-insensitive exact) and by name (escaped apostrophe)', async () => {
    const token = await accessToken();
    const c = demoCustomer(DEMO.apostrophe);
    const email = c.email.toUpperCase().replace(/[-]/g, '\\-');
    const byEmail = (await (await sosl(`FIND {${email}} IN EMAIL FIELDS RETURNING Account(Customer_Number__c)`, token)).json()) as Json;
    expect(byEmail.searchRecords.map((r: Json) => r.Customer_Number__c)).toEqual([c.customerId]);
    const byName = (await (await sosl(String.raw`FIND {O\'Neil \& Sons} IN NAME FIELDS RETURNING Account(Customer_Number__c)`, token)).json()) as Json;
    expect(byName.searchRecords.map((r: Json) => r.Customer_Number__c)).toEqual([c.customerId]);
  });

  it('a customer missing from Salesforce is not found', async () => {
    const token = await accessToken();
    const c = demoCustomer(DEMO.missingFromSalesforce);
    const res = await sosl(`FIND {\\${c.phone}} IN PHONE FIELDS RETURNING Account(Id)`, token);
    expect(await res.json()).toEqual({ searchRecords: [] });
  });

  it('refuses an unescaped reserved character with 400 MALFORMED_SEARCH', async () => {
    const token = await accessToken();
    await expectSfError(await sosl('FIND {+14155550100} IN PHONE FIELDS RETURNING Account(Id)', token), 400, 'MALFORMED_SEARCH');
    await expectSfError(await sosl("FIND {O'Neil} IN NAME FIELDS RETURNING Account(Id)", token), 400, 'MALFORMED_SEARCH');
    await expectSfError(await sosl('FIND {Acme*} IN NAME FIELDS RETURNING Account(Id)', token), 400, 'MALFORMED_SEARCH');
    await expectSfError(await sosl('FIND {Acme} IN NAME FIELDS RETURNING Contact(Id)', token), 400, 'INVALID_TYPE');
  });
});

describe('limits, headers and faults in Salesforce format', () => {
  const q = `SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.healthy}'`;

  it('puts Sforce-Limit-Info: api-usage=<calls>/100000 on every response, errors included', async () => {
    const tokenRes = await tokenFor(sim);
    expect(tokenRes.headers.get('sforce-limit-info')).toBe('api-usage=1/100000');
    const token = ((await tokenRes.json()) as Json).access_token as string;
    const ok = await soql(q, token);
    expect(ok.headers.get('sforce-limit-info')).toBe('api-usage=2/100000');
    const unauth = await soql(q);
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('sforce-limit-info')).toBe('api-usage=3/100000');
    const bad = await soql('SELECT', token);
    expect(bad.headers.get('sforce-limit-info')).toBe('api-usage=4/100000');
    const notFound = await get('/services/data/v12.0/query?q=x', token);
    await expectSfError(notFound, 404, 'NOT_FOUND');
    expect(notFound.headers.get('sforce-limit-info')).toBe('api-usage=5/100000');
    const control = await fetch(`${sim.url}/__sim/calls`);
    expect(control.headers.get('sforce-limit-info')).toBeNull();
  });

  it('rateLimitPerSecond=2: the third call in the same second gets 403 REQUEST_LIMIT_EXCEEDED, not 429', async () => {
    const token = await accessToken();
    sim.setFaults({ rateLimitPerSecond: 2 });
    expect((await soql(q, token)).status).toBe(200);
    expect((await soql(q, token)).status).toBe(200);
    const third = await soql(q, token);
    expect(third.status).toBe(403);
    expect(await third.json()).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(third.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/100000$/);
    expect(sim.calls().rateLimited).toBe(1);
    clock += 1000;
    expect((await soql(q, token)).status).toBe(200);
  });

  it('forced 503 answers a Salesforce error array with SERVER_UNAVAILABLE; 500 gives UNKNOWN_EXCEPTION', async () => {
    const token = await accessToken();
    const ctl = await fetch(`${sim.url}/__sim/faults`, { method: 'PUT', body: JSON.stringify({ forcedStatus: 503 }) });
    expect(ctl.status).toBe(200);
    await expectSfError(await soql(q, token), 503, 'SERVER_UNAVAILABLE');
    await expectSfError(await sosl('FIND {Acme} RETURNING Account(Id)', token), 503, 'SERVER_UNAVAILABLE');
    sim.setFaults({ forcedStatus: 500 });
    await expectSfError(await soql(q, token), 500, 'UNKNOWN_EXCEPTION');
    sim.setFaults({ forcedStatus: 404 });
    await expectSfError(await soql(q, token), 404, 'NOT_FOUND');
  });

  it('faults limited to one route leave the others alone', async () => {
    const token = await accessToken();
    sim.setFaults({ forcedStatus: 503, only: ['search'] });
    expect((await soql(q, token)).status).toBe(200);
    await expectSfError(await sosl('FIND {Acme} RETURNING Account(Id)', token), 503, 'SERVER_UNAVAILABLE');
  });

  it('malformed=truncated cuts successful bodies', async () => {
    const token = await accessToken();
    sim.setFaults({ malformed: 'truncated' });
    const res = await soql(q, token);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });
});

/** Sends exactly this request line and these headers (no body) and reads the answer; the byte counts are the test's own. */
function rawGet(port: number, target: string, headers: Array<[string, string]>): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.write(`GET ${target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  });
}

/** What Salesforce counts: the URI, then each header as `Name: value` plus CRLF. */
function uriAndHeaderBytes(target: string, headers: Array<[string, string]>): number {
  return Buffer.byteLength(target) + headers.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 4, 0);
}

describe('batched look-ups: SOQL IN and SOSL OR, with the keys each call carried', () => {
  const accounts = DEMO_CUSTOMERS.filter((c) => c.presentIn.salesforce);
  const inList = (ids: readonly string[]) => ids.map((id) => `'${id}'`).join(',');

  it('one IN query over every customer number (and two unknown ones) returns each Account once and records 62 keys', async () => {
    const token = await accessToken();
    const ids = [...DEMO_CUSTOMERS.map((c) => c.customerId), '0019999998', '0019999999'];
    const body = (await (await soql(`SELECT Customer_Number__c FROM Account WHERE Customer_Number__c IN (${inList(ids)})`, token)).json()) as Json;
    expect(body.totalSize).toBe(SF_COUNT);
    expect(body.records.map((r: Json) => r.Customer_Number__c)).toEqual(accounts.map((c) => c.customerId));
    expect(sim.batchSizes('query')).toEqual([62]);
    expect(sim.requests('query')[0].batchSize).toBe(62);
    expect(sim.calls().batches).toEqual({ query: { calls: 1, keys: 62, max: 62, sizes: { '62': 1 } } });
  });

  it('counts one key for a single-customer query and none for a query without keys; /__sim/batches reports per route', async () => {
    const token = await accessToken();
    await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.healthy}'`, token);
    await soql(`SELECT Id FROM Account WHERE Customer_Number__c IN ('${DEMO.healthy}', '${DEMO.apostrophe}', '${DEMO.multiCurrency}')`, token);
    await soql('SELECT Id FROM Account LIMIT 1', token);
    expect(sim.batchSizes('query')).toEqual([1, 3]);
    const one = (await (await fetch(`${sim.url}/__sim/batches?route=query`)).json()) as Json;
    expect(one).toEqual({ calls: 2, keys: 4, max: 3, sizes: { '1': 1, '3': 1 }, recent: [1, 3] });
    const all = (await (await fetch(`${sim.url}/__sim/batches`)).json()) as Json;
    expect(all).toEqual({ query: { calls: 2, keys: 4, max: 3, sizes: { '1': 1, '3': 1 } } });
    await fetch(`${sim.url}/__sim/calls`, { method: 'DELETE' });
    expect(sim.batchSizes()).toEqual([]);
    expect(sim.calls().batches).toEqual({});
  });

  it('pages a large IN result through nextRecordsUrl: every Account once; only the query names keys, not queryMore', async () => {
    const token = await accessToken(paged);
    const ids = accounts.slice(0, 32).map((c) => c.customerId);
    let body = (await (await soql(`SELECT Id, Customer_Number__c FROM Account WHERE Customer_Number__c IN (${inList([...ids].reverse())})`, token, paged)).json()) as Json;
    const seen: string[] = [];
    for (;;) {
      expect(body.totalSize).toBe(32);
      seen.push(...body.records.map((r: Json) => r.Customer_Number__c as string));
      if (body.done) break;
      body = (await (await get(body.nextRecordsUrl as string, token, paged)).json()) as Json;
    }
    expect(seen).toEqual(ids);
    expect(paged.callCount('queryMore')).toBe(6);
    expect(paged.batchSizes()).toEqual([32]);
  });

  it('one SOSL search with phones joined by OR finds every one of those Accounts and records the number of terms', async () => {
    const token = await accessToken();
    const wanted = [demoCustomer(DEMO.healthy), demoCustomer(DEMO.apostrophe), demoCustomer(DEMO.multiCurrency)];
    const q = `FIND {${wanted.map((c) => `\\${c.phone}`).join(' OR ')} OR \\+19999999999} IN PHONE FIELDS RETURNING Account(Customer_Number__c)`;
    const body = (await (await sosl(q, token)).json()) as Json;
    expect(body.searchRecords.map((r: Json) => r.Customer_Number__c).sort()).toEqual(wanted.map((c) => c.customerId).sort());
    expect(sim.batchSizes('search')).toEqual([4]);
  });
});

describe("Salesforce's request limits", () => {
  const base = '/services/data/v66.0/query?q=';
  /** A query URI of exactly `bytes` bytes (padded with encoded spaces, so no string literal grows past its own bound). */
  const targetOf = (bytes: number) => {
    const head = `${base}${encodeURIComponent('SELECT Id FROM Account')}`;
    const where = (xs: number) => encodeURIComponent(` WHERE Name = '${'x'.repeat(xs)}'`);
    const room = bytes - head.length - where(0).length;
    return `${head}${'%20'.repeat(Math.floor(room / 3))}${where(room % 3)}`;
  };

  it('the defaults are the documented ones; /__sim/limits reads, changes and restores them; reset() restores them too', async () => {
    expect(sim.limits).toEqual({ maxUriAndHeadersBytes: 16_384, maxStatementLength: 100_000, maxWhereStringLength: 4_000, soslOperatorsDroppedAbove: 4_000, soslNoRowsAbove: 10_000, soslMaxResults: 2_000 });
    expect(sim.limits).toEqual(SALESFORCE_LIMITS);
    expect(await (await fetch(`${sim.url}/__sim/limits`)).json()).toEqual(SALESFORCE_LIMITS);
    const put = await fetch(`${sim.url}/__sim/limits`, { method: 'PUT', body: JSON.stringify({ maxUriAndHeadersBytes: 4096, soslMaxResults: null }) });
    expect(await put.json()).toEqual({ ...SALESFORCE_LIMITS, maxUriAndHeadersBytes: 4096, soslMaxResults: null });
    for (const bad of [{ maxUrlBytes: 1 }, { maxStatementLength: -1 }, { maxStatementLength: 1.5 }, { maxStatementLength: '9' }]) {
      const res = await fetch(`${sim.url}/__sim/limits`, { method: 'PUT', body: JSON.stringify(bad) });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(sim.limits.maxUriAndHeadersBytes).toBe(4096);
    await fetch(`${sim.url}/__sim/limits`, { method: 'DELETE' });
    expect(sim.limits).toEqual(SALESFORCE_LIMITS);
    sim.setLimits({ maxStatementLength: 10 });
    sim.reset();
    expect(sim.limits).toEqual(SALESFORCE_LIMITS);
    const custom = new SalesforceSimulator({ limits: { maxWhereStringLength: 10 } });
    expect(custom.limits).toEqual({ ...SALESFORCE_LIMITS, maxWhereStringLength: 10 });
    expect(() => new SalesforceSimulator({ limits: { bogus: 1 } as never })).toThrowError('unknown limit "bogus"');
  });

  it('URI plus headers of exactly the limit pass; one byte more is 431; a URI longer than the limit on its own is 414', async () => {
    const token = await accessToken();
    sim.setLimits({ maxUriAndHeadersBytes: 4096 });
    const headers: Array<[string, string]> = [['Host', '127.0.0.1'], ['Authorization', `Bearer ${token}`], ['Connection', 'close']];
    const headerBytes = uriAndHeaderBytes('', headers);
    const atLimit = targetOf(4096 - headerBytes);
    expect(uriAndHeaderBytes(atLimit, headers)).toBe(4096);
    expect((await rawGet(sim.port, atLimit, headers)).status).toBe(200);

    const over = await rawGet(sim.port, targetOf(4097 - headerBytes), headers);
    expect(over.status).toBe(431);
    expect(over.body).toBe('<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>');

    const uriOver = await rawGet(sim.port, targetOf(4097), headers);
    expect(uriOver.status).toBe(414);
    expect(uriOver.body).toBe('<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>');
    expect(uriOver.head.toLowerCase()).toContain('connection: close');
    expect(uriOver.head.toLowerCase()).not.toContain('sforce-limit-info');
    expect(sim.calls().oversized).toBe(2);
    expect(sim.batchSizes()).toEqual([1]); // only the call that reached the API was parsed
  });

  it('at the default 16,384 bytes: a 16,000-byte query URI runs, a 16,385-byte one is 414 (no Sforce-Limit-Info: the web tier answered)', async () => {
    const token = await accessToken();
    expect((await get(targetOf(16_000), token)).status).toBe(200);
    const res = await get(targetOf(16_385), token);
    expect(res.status).toBe(414);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('sforce-limit-info')).toBeNull();
    expect(await res.text()).toBe('<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>');
  });

  it('a SOQL statement over 100,000 characters meets the URI bound first; with the URI unbounded it is MALFORMED_QUERY', async () => {
    const token = await accessToken();
    const long = `SELECT Id FROM Account WHERE Name IN (${Array.from({ length: 8000 }, (_, i) => `'customer-${i}'`).join(',')})`;
    expect(long.length).toBeGreaterThan(100_000);
    expect((await soql(long, token)).status).toBe(414);
    sim.setLimits({ maxUriAndHeadersBytes: null });
    const msg = await expectSfError(await soql(long, token), 400, 'MALFORMED_QUERY');
    expect(msg).toBe('SOQL statements can not be longer than 100000 characters.');
    const fits = `SELECT Id FROM Account WHERE Name IN (${Array.from({ length: 7000 }, (_, i) => `'n${i}'`).join(',')})`;
    expect(fits.length).toBeLessThanOrEqual(100_000);
    expect(await (await soql(fits, token)).json()).toEqual({ totalSize: 0, done: true, records: [] });
    expect(sim.batchSizes('query')).toEqual([7000]);
  });

  it('a WHERE string of 4,001 characters is MALFORMED_QUERY; 4,000 run; a smaller configured bound applies', async () => {
    const token = await accessToken();
    expect((await soql(`SELECT Id FROM Account WHERE Name = '${'a'.repeat(4000)}'`, token)).status).toBe(200);
    const msg = await expectSfError(await soql(`SELECT Id FROM Account WHERE Name = '${'a'.repeat(4001)}'`, token), 400, 'MALFORMED_QUERY');
    expect(msg).toContain('at most 4000 are allowed');
    sim.setLimits({ maxWhereStringLength: 9 });
    await expectSfError(await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.healthy}'`, token), 400, 'MALFORMED_QUERY');
    expect((await soql(`SELECT Id FROM Account WHERE Customer_Number__c = '${DEMO.healthy.slice(0, 9)}'`, token)).status).toBe(200);
  });

  it('SOSL limits are the simulator\'s too: a search query over soslNoRowsAbove returns no rows', async () => {
    const token = await accessToken();
    const q = String.raw`FIND {\+14155550100} IN PHONE FIELDS RETURNING Account(Id)`;
    expect(((await (await sosl(q, token)).json()) as Json).searchRecords).toHaveLength(1);
    sim.setLimits({ soslNoRowsAbove: 5 });
    expect(await (await sosl(q, token)).json()).toEqual({ searchRecords: [] });
  });
});
