import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, DEMO_CUSTOMERS, demoCustomer, SEED_EPOCH_MS } from '../shared/seed.js';
import { formatStringLiteral } from './odata-filter.js';
import { SAP_LIMITS, SapSimulator } from './sap.simulator.js';

const { username, password } = SANDBOX_CREDENTIALS.sap;
const AUTH = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const BP = '/sap/opu/odata/sap/API_BUSINESS_PARTNER';
const CUBE = '/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV';
const SAP_CUSTOMERS = DEMO_CUSTOMERS.filter((c) => c.presentIn.sap);

let clock = SEED_EPOCH_MS;
const sim = new SapSimulator({ now: () => clock });

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  clock = SEED_EPOCH_MS;
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed vendor JSON in assertions
type Json = Record<string, any>;

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(sim.url + path, { headers: { authorization: AUTH, ...headers } });
}

async function getJson(path: string): Promise<Json> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Json;
}

function filterUrl(set: string, filter: string, extra = ''): string {
  return `${set}?$filter=${encodeURIComponent(filter)}&$format=json${extra}`;
}

function expectODataError(body: Json, code?: string | RegExp): void {
  expect(typeof body.error.code).toBe('string');
  if (code) expect(body.error.code).toMatch(code);
  expect(body.error.message.lang).toBe('en');
  expect(typeof body.error.message.value).toBe('string');
  const inner = body.error.innererror;
  expect(inner.application.service_namespace).toBe('/SAP/');
  expect(inner.transactionid).toMatch(/^[0-9A-F]{32}$/);
  expect(inner.timestamp).toMatch(/^\d{14}\.\d{7}$/);
  expect(inner.Error_Resolution).toHaveProperty('SAP_Note');
  expect(Array.isArray(inner.errordetails)).toBe(true);
}

/** GET with `X-CSRF-Token: Fetch`; returns the token and a Cookie header built from Set-Cookie. */
async function fetchCsrf(cookie?: string): Promise<{ token: string; cookie: string; setCookies: string[] }> {
  const res = await get(`${BP}/A_Customer('${DEMO.healthy}')?$format=json`, { 'x-csrf-token': 'Fetch', ...(cookie ? { cookie } : {}) });
  expect(res.status).toBe(200);
  const setCookies = res.headers.getSetCookie();
  return {
    token: res.headers.get('x-csrf-token') ?? '',
    cookie: setCookies.map((c) => c.split(';')[0]).join('; '),
    setCookies,
  };
}

function write(path: string, method: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(sim.url + path, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('A_BusinessPartner', () => {
  it('reads one partner in OData V2 JSON with __metadata and /Date()/', async () => {
    const seed = demoCustomer(DEMO.healthy);
    const res = await get(`${BP}/A_BusinessPartner('${seed.sapBusinessPartner}')?$format=json&sap-client=100`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('dataserviceversion')).toBe('2.0');
    const { d } = (await res.json()) as Json;
    const uri = `${sim.url}${BP}/A_BusinessPartner('${seed.sapBusinessPartner}')`;
    expect(d.__metadata).toEqual({ id: uri, uri, type: 'API_BUSINESS_PARTNER.A_BusinessPartnerType' });
    expect(d).toMatchObject({
      BusinessPartner: seed.sapBusinessPartner,
      Customer: seed.customerId,
      BusinessPartnerCategory: '2',
      BusinessPartnerFullName: seed.name,
      CreationDate: '/Date(1662336000000)/',
    });
    expect(sim.callCount('businessPartner')).toBe(1);
  });

  it('accepts a key with %27-encoded quotes and a named key', async () => {
    const a = await getJson(`${BP}/A_BusinessPartner(%271003702%27)`);
    const b = await getJson(`${BP}/A_BusinessPartner(BusinessPartner='1003702')`);
    expect(a.d.Customer).toBe('0010100002');
    expect(b.d.Customer).toBe('0010100002');
  });

  it('unknown key → 404 "Resource not found for segment"', async () => {
    const res = await get(`${BP}/A_BusinessPartner('9999999')`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as Json;
    expectODataError(body, '/IWBEP/CM_MGW_RT/020');
    expect(body.error.message.value).toMatch(/^Resource not found for segment/);
  });

  it('malformed key (lone quote, unquoted) → 400 OData error', async () => {
    for (const key of ["'10037'01'", '1003701']) {
      const res = await get(`${BP}/A_BusinessPartner(${key})`);
      expect(res.status, key).toBe(400);
      expectODataError((await res.json()) as Json);
    }
  });

  it('$filter on a single entity is refused', async () => {
    const res = await get(`${BP}/A_BusinessPartner('1003701')?$filter=${encodeURIComponent("Customer eq '1'")}`);
    expect(res.status).toBe(400);
  });
});

describe('A_Customer', () => {
  it('reads a customer with an ETag header equal to __metadata.etag', async () => {
    const seed = demoCustomer(DEMO.healthy);
    const res = await get(`${BP}/A_Customer('${seed.customerId}')?$format=json`);
    expect(res.status).toBe(200);
    const { d } = (await res.json()) as Json;
    expect(d.__metadata.type).toBe('API_BUSINESS_PARTNER.A_CustomerType');
    expect(d.__metadata.etag).toMatch(/^W\/"datetimeoffset'\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{7}Z'"$/);
    expect(res.headers.get('etag')).toBe(d.__metadata.etag);
    expect(d).toMatchObject({
      Customer: seed.customerId,
      CustomerName: seed.name,
      CustomerFullName: seed.name,
      DeletionIndicator: false,
      PaymentTerms: '0001',
      CustomerAccountGroup: 'KUNA',
    });
  });

  it('customers missing from SAP do not exist', async () => {
    for (const id of [DEMO.missingFromSap, DEMO.onlyInSalesforce]) {
      const res = await get(`${BP}/A_Customer('${id}')`);
      expect(res.status, id).toBe(404);
    }
    expect(SAP_CUSTOMERS).toHaveLength(58);
  });

  it('collection: __count is a string and only with $inlinecount=allpages; $top/$skip page', async () => {
    const page = await getJson(`${BP}/A_Customer?$inlinecount=allpages&$top=5&$skip=2&$format=json`);
    expect(page.d.__count).toBe('58');
    expect(page.d.results.map((r: Json) => r.Customer)).toEqual(SAP_CUSTOMERS.slice(2, 7).map((c) => c.customerId));
    expect(page.d.__next).toBeUndefined();
    const plain = await getJson(`${BP}/A_Customer?$top=1`);
    expect(plain.d).not.toHaveProperty('__count');
    expect(plain.d.results).toHaveLength(1);
    const none = await getJson(`${BP}/A_Customer?$top=0&$inlinecount=allpages`);
    expect(none.d).toEqual({ results: [], __count: '58' });
  });

  it('$select returns only the selected properties (plus __metadata); unknown → 400', async () => {
    const body = await getJson(`${BP}/A_Customer?$select=Customer,CustomerName&$top=2`);
    for (const r of body.d.results) expect(Object.keys(r)).toEqual(['__metadata', 'Customer', 'CustomerName']);
    const res = await get(`${BP}/A_Customer?$select=Customer,Balance`);
    expect(res.status).toBe(400);
    expectODataError((await res.json()) as Json);
  });

  it('$orderby sorts; bad $top / $inlinecount / unknown system option → 400', async () => {
    const body = await getJson(`${BP}/A_Customer?$orderby=Customer desc&$top=2&$select=Customer`);
    expect(body.d.results.map((r: Json) => r.Customer)).toEqual(['0010100060', '0010100059']);
    for (const q of ['$top=-1', '$top=abc', '$skip=1.5', '$inlinecount=some', '$expand=to_Partner', '$orderby=Nope', '$top=1&$top=2']) {
      const res = await get(`${BP}/A_Customer?${q}`);
      expect(res.status, q).toBe(400);
    }
  });

  it('$filter with a correctly doubled quote matches exactly that customer', async () => {
    const body = await getJson(filterUrl(`${BP}/A_Customer`, "CustomerFullName eq 'O''Neil & Sons'"));
    expect(body.d.results).toHaveLength(1);
    expect(body.d.results[0].Customer).toBe(DEMO.apostrophe);
  });

  it('an injected "or" only widens the query when sent raw; the escaped literal matches nothing', async () => {
    const raw = await getJson(filterUrl(`${BP}/A_Customer`, "Customer eq '1' or '1' eq '1'", '&$inlinecount=allpages'));
    expect(raw.d.__count).toBe('58'); // the danger: every customer
    const escaped = `Customer eq ${formatStringLiteral("1' or '1' eq '1")}`;
    expect(escaped).toBe("Customer eq '1'' or ''1'' eq ''1'");
    const safe = await getJson(filterUrl(`${BP}/A_Customer`, escaped, '&$inlinecount=allpages'));
    expect(safe.d).toEqual({ results: [], __count: '0' });
  });

  it('a lone quote in a literal → 400 "Invalid filter expression"', async () => {
    const res = await get(filterUrl(`${BP}/A_Customer`, "CustomerFullName eq 'O'Neil & Sons'"));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Json;
    expectODataError(body, /^\/IWBEP\/CM_MGW_RT\//);
    expect(body.error.message.value).toMatch(/^Invalid filter expression: /);
  });

  it('an unknown property or a type mismatch in $filter → 400', async () => {
    for (const f of ["Balance gt '0'", 'Customer eq 1', "Customer eq '1' and"]) {
      const res = await get(filterUrl(`${BP}/A_Customer`, f));
      expect(res.status, f).toBe(400);
      const body = (await res.json()) as Json;
      expect(body.error.message.value).toMatch(/^Invalid filter expression: /);
    }
  });
});

describe('phone numbers', () => {
  const seed = demoCustomer(DEMO.healthy);

  it('to_PhoneNumber of the partner address', async () => {
    const addr = await getJson(filterUrl(`${BP}/A_BusinessPartnerAddress`, `BusinessPartner eq '${seed.sapBusinessPartner}'`));
    expect(addr.d.results).toHaveLength(1);
    const addressId = addr.d.results[0].AddressID as string;
    expect(addressId).toMatch(/^\d+$/);
    const body = await getJson(`${BP}/A_BusinessPartnerAddress(BusinessPartner='${seed.sapBusinessPartner}',AddressID='${addressId}')/to_PhoneNumber?$format=json`);
    expect(body.d.results).toHaveLength(1);
    const phone = body.d.results[0];
    expect(phone.__metadata.type).toBe('API_BUSINESS_PARTNER.A_AddressPhoneNumberType');
    expect(phone).toMatchObject({
      AddressID: addressId,
      Person: '',
      OrdinalNumber: '1',
      InternationalPhoneNumber: seed.phone,
      PhoneNumber: seed.phone.slice(2),
      PhoneNumberExtension: '',
      DestinationLocationCountry: 'US',
    });
    expect(sim.callCount('phoneNumbers')).toBe(1);
  });

  it('unknown address → 404', async () => {
    const res = await get(`${BP}/A_BusinessPartnerAddress(BusinessPartner='${seed.sapBusinessPartner}',AddressID='1')/to_PhoneNumber`);
    expect(res.status).toBe(404);
  });

  it('A_AddressPhoneNumber?$filter=InternationalPhoneNumber eq … finds the partner in one call', async () => {
    const body = await getJson(filterUrl(`${BP}/A_AddressPhoneNumber`, `InternationalPhoneNumber eq '${seed.phone}'`));
    expect(body.d.results).toHaveLength(1);
    expect(body.d.results[0].BusinessPartner).toBe(seed.sapBusinessPartner);
    expect(sim.callCount('addressPhoneNumbers')).toBe(1);
  });

  it('an unencoded "+" in the query is a space, so the phone does not match', async () => {
    const body = await getJson(`${BP}/A_AddressPhoneNumber?$filter=InternationalPhoneNumber%20eq%20'${seed.phone}'`);
    expect(body.d.results).toEqual([]);
  });
});

describe('open items (API_OPLACCTGDOCITEMCUBE_SRV)', () => {
  const openItemsUrl = (customer: string, select = 'AmountInCompanyCodeCurrency,CompanyCodeCurrency') =>
    `${CUBE}/A_OperationalAcctgDocItemCube?$filter=${encodeURIComponent(`Customer eq '${customer}' and IsCleared eq false`)}&$select=${select}&$format=json`;

  it('amounts are Edm.Decimal strings exactly as seeded; cleared items are excluded', async () => {
    const seed = demoCustomer(DEMO.healthy);
    expect(seed.openItems.some((i) => i.cleared)).toBe(true);
    const body = await getJson(openItemsUrl(seed.customerId));
    const expected = seed.openItems.filter((i) => !i.cleared).map((i) => i.amount);
    expect(body.d.results.map((r: Json) => r.AmountInCompanyCodeCurrency)).toEqual(expected);
    for (const r of body.d.results) {
      expect(Object.keys(r)).toEqual(['__metadata', 'AmountInCompanyCodeCurrency', 'CompanyCodeCurrency']);
      expect(typeof r.AmountInCompanyCodeCurrency).toBe('string');
      expect(r.CompanyCodeCurrency).toBe('USD');
      expect(r.__metadata.type).toBe('API_OPLACCTGDOCITEMCUBE_SRV.A_OperationalAcctgDocItemCubeType');
    }
    expect(sim.callCount('openItems')).toBe(1);
  });

  it('the decimal trap customer has 0.100 and 0.200; credits are negative strings', async () => {
    const trap = await getJson(openItemsUrl(DEMO.decimalTrap));
    expect(trap.d.results.map((r: Json) => r.AmountInCompanyCodeCurrency)).toEqual(['0.100', '0.200']);
    const credit = await getJson(openItemsUrl('0010100002'));
    expect(credit.d.results.map((r: Json) => r.AmountInCompanyCodeCurrency)).toContain('-100.250');
  });

  it('all fields: IsCleared boolean, dates as /Date(ms)/', async () => {
    const seed = demoCustomer(DEMO.healthy);
    const body = await getJson(filterUrl(`${CUBE}/A_OperationalAcctgDocItemCube`, `Customer eq '${seed.customerId}'`));
    expect(body.d.results).toHaveLength(seed.openItems.length);
    const cleared = body.d.results.filter((r: Json) => r.IsCleared === true);
    expect(cleared).toHaveLength(seed.openItems.filter((i) => i.cleared).length);
    const first = body.d.results[0];
    expect(Object.keys(first)).toEqual(expect.arrayContaining([
      'CompanyCode', 'AccountingDocument', 'FiscalYear', 'AccountingDocumentItem', 'Customer',
      'AmountInCompanyCodeCurrency', 'CompanyCodeCurrency', 'IsCleared', 'PostingDate', 'DocumentDate', 'NetDueDate',
    ]));
    expect(first.IsCleared).toBe(false);
    expect(first.PostingDate).toBe(`/Date(${seed.openItems[0].documentDate})/`);
    expect(first.DocumentDate).toBe(`/Date(${seed.openItems[0].documentDate})/`);
    expect(first.NetDueDate).toMatch(/^\/Date\(\d+\)\/$/);
  });

  it('customer with no open items → empty results', async () => {
    const body = await getJson(openItemsUrl('0010100005'));
    expect(body.d.results).toEqual([]);
  });

  it('setOpenItems replaces a customer’s items', async () => {
    sim.setOpenItems(DEMO.healthy, [{ amount: '10.000', documentDate: SEED_EPOCH_MS, cleared: false }]);
    const body = await getJson(openItemsUrl(DEMO.healthy));
    expect(body.d.results.map((r: Json) => r.AmountInCompanyCodeCurrency)).toEqual(['10.000']);
    expect(() => sim.setOpenItems(DEMO.missingFromSap, [])).toThrow();
  });

  it('is read-only: a write (with a valid CSRF token) → 405 OData error', async () => {
    const { token, cookie } = await fetchCsrf();
    const res = await write(`${CUBE}/A_OperationalAcctgDocItemCube`, 'POST', { Customer: DEMO.healthy }, { 'x-csrf-token': token, cookie });
    expect(res.status).toBe(405);
    expectODataError((await res.json()) as Json);
  });
});

describe('auth and sap-client', () => {
  it('no or wrong Basic credentials → 401 HTML logon page with WWW-Authenticate', async () => {
    const variants: Array<Record<string, string>> = [{}, { authorization: `Basic ${Buffer.from(`${username}:wrong`).toString('base64')}` }, { authorization: 'Bearer x' }];
    for (const headers of variants) {
      const res = await fetch(`${sim.url}${BP}/A_Customer('${DEMO.healthy}')`, { headers: { ...headers, 'x-csrf-token': 'Fetch' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="SAP NetWeaver Application Server [S4H/100]"');
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/<html>.*Logon failed.*<\/html>/s);
      expect(res.headers.get('x-csrf-token')).toBeNull();
    }
  });

  it('sap-client must be the configured client', async () => {
    expect((await get(`${BP}/A_Customer('${DEMO.healthy}')?sap-client=100`)).status).toBe(200);
    for (const client of ['200', '1000', 'abc']) {
      const res = await get(`${BP}/A_Customer('${DEMO.healthy}')?sap-client=${client}`);
      expect(res.status, client).toBe(400);
      expectODataError((await res.json()) as Json);
    }
  });

  it('unknown paths → 404 OData error', async () => {
    const res = await get(`${BP}/A_Nothing`);
    expect(res.status).toBe(404);
    expectODataError((await res.json()) as Json);
  });
});

describe('CSRF and writes', () => {
  const path = `${BP}/A_Customer('${DEMO.healthy}')`;

  it('fetch token + cookies, PATCH with If-Match → 204 with new ETag, next GET shows the new data', async () => {
    const { token, cookie, setCookies } = await fetchCsrf();
    expect(token).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(setCookies.some((c) => /^SAP_SESSIONID_S4H_100=[^;]+; path=\/; HttpOnly$/.test(c))).toBe(true);
    expect(setCookies).toContain('sap-usercontext=sap-client=100; path=/');

    const before = await get(path);
    const etag = before.headers.get('etag') ?? '';
    const res = await write(path, 'PATCH', { PaymentTerms: '0004', CustomerFullName: 'Acme Corp International', BillingIsBlockedForCustomer: '01' }, {
      'x-csrf-token': token,
      cookie,
      'if-match': etag,
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const newEtag = res.headers.get('etag');
    expect(newEtag).toMatch(/^W\/"datetimeoffset'/);
    expect(newEtag).not.toBe(etag);

    const after = await get(path);
    expect(after.headers.get('etag')).toBe(newEtag);
    const { d } = (await after.json()) as Json;
    expect(d).toMatchObject({ PaymentTerms: '0004', CustomerFullName: 'Acme Corp International', BillingIsBlockedForCustomer: '01' });
    expect(d.__metadata.etag).toBe(newEtag);
    expect(sim.callCount('updateCustomer')).toBe(1);
  });

  it('MERGE and POST with X-HTTP-Method: MERGE work too; each change moves the ETag', async () => {
    const { token, cookie } = await fetchCsrf();
    const r1 = await write(path, 'MERGE', { PaymentTerms: '0002' }, { 'x-csrf-token': token, cookie });
    expect(r1.status).toBe(204);
    const r2 = await write(path, 'POST', { PaymentTerms: '0003' }, { 'x-csrf-token': token, cookie, 'x-http-method': 'MERGE', 'if-match': r1.headers.get('etag') ?? '' });
    expect(r2.status).toBe(204);
    expect(r2.headers.get('etag')).not.toBe(r1.headers.get('etag'));
    expect((await getJson(path)).d.PaymentTerms).toBe('0003');
  });

  it('a second fetch in the same session returns the same token', async () => {
    const first = await fetchCsrf();
    const again = await fetchCsrf(first.cookie);
    expect(again.token).toBe(first.token);
  });

  it('write without token, with token but no cookie, or with another session’s cookie → 403 X-CSRF-Token: Required', async () => {
    const a = await fetchCsrf();
    const b = await fetchCsrf();
    expect(a.token).not.toBe(b.token);
    const variants: Array<Record<string, string>> = [
      {},
      { cookie: a.cookie },
      { 'x-csrf-token': a.token },
      { 'x-csrf-token': a.token, cookie: b.cookie },
      { 'x-csrf-token': 'Fetch', cookie: a.cookie },
    ];
    for (const headers of variants) {
      const res = await write(path, 'PATCH', { PaymentTerms: '0002' }, headers);
      expect(res.status).toBe(403);
      expect(res.headers.get('x-csrf-token')).toBe('Required');
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe('CSRF token validation failed');
    }
    expect((await getJson(path)).d.PaymentTerms).toBe('0001');
  });

  it('stale token after expireCsrfTokens() → 403, then a refetch works', async () => {
    const first = await fetchCsrf();
    sim.expireCsrfTokens();
    const stale = await write(path, 'PATCH', { PaymentTerms: '0002' }, { 'x-csrf-token': first.token, cookie: first.cookie });
    expect(stale.status).toBe(403);
    expect(stale.headers.get('x-csrf-token')).toBe('Required');
    const fresh = await fetchCsrf(first.cookie);
    expect(fresh.token).not.toBe(first.token);
    const ok = await write(path, 'PATCH', { PaymentTerms: '0002' }, { 'x-csrf-token': fresh.token, cookie: fresh.cookie });
    expect(ok.status).toBe(204);
  });

  it('tokens also expire with the tokenTtlMs fault and the fake clock', async () => {
    sim.setFaults({ tokenTtlMs: 60_000 });
    const { token, cookie } = await fetchCsrf();
    clock += 60_000;
    const res = await write(path, 'PATCH', { PaymentTerms: '0002' }, { 'x-csrf-token': token, cookie });
    expect(res.status).toBe(403);
  });

  it('If-Match mismatch → 412 OData error and nothing changes', async () => {
    const { token, cookie } = await fetchCsrf();
    const stale = `W/"datetimeoffset'2020-01-01T00%3A00%3A00.0000000Z'"`;
    const res = await write(path, 'PATCH', { PaymentTerms: '0002' }, { 'x-csrf-token': token, cookie, 'if-match': stale });
    expect(res.status).toBe(412);
    expectODataError((await res.json()) as Json);
    expect((await getJson(path)).d.PaymentTerms).toBe('0001');
  });

  it('unknown or read-only property, wrong type or bad JSON → 400; PUT → 405; unknown customer → 404', async () => {
    const { token, cookie } = await fetchCsrf();
    const h = { 'x-csrf-token': token, cookie };
    for (const body of [{ Balance: '1' }, { DeletionIndicator: true }, { PaymentTerms: 4 }, { PaymentTerms: '00001' }, { Customer: '0010100002' }]) {
      const res = await write(path, 'PATCH', body, h);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectODataError((await res.json()) as Json);
    }
    const bad = await fetch(sim.url + path, { method: 'PATCH', headers: { authorization: AUTH, ...h }, body: '{"PaymentTerms":' });
    expect(bad.status).toBe(400);
    expect((await write(path, 'PUT', { PaymentTerms: '0002' }, h)).status).toBe(405);
    expect((await write(`${BP}/A_Customer('${DEMO.missingFromSap}')`, 'PATCH', { PaymentTerms: '0002' }, h)).status).toBe(404);
    expect((await getJson(path)).d.PaymentTerms).toBe('0001');
  });

  it('reset() restores the seeded customer', async () => {
    const { token, cookie } = await fetchCsrf();
    expect((await write(path, 'PATCH', { PaymentTerms: '0009' }, { 'x-csrf-token': token, cookie })).status).toBe(204);
    sim.reset();
    expect((await getJson(path)).d.PaymentTerms).toBe('0001');
  });
});

describe('faults in the SAP format', () => {
  it('forced 503 → OData error envelope with status 503', async () => {
    sim.setFaults({ forcedStatus: 503, only: ['openItems'] });
    const res = await get(`${CUBE}/A_OperationalAcctgDocItemCube?$format=json`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Json;
    expectODataError(body, '/IWFND/CM_CONSUMER/101');
    expect(body.error.innererror.application.service_id).toBe('API_OPLACCTGDOCITEMCUBE_SRV');
    expect((await get(`${BP}/A_Customer('${DEMO.healthy}')`)).status).toBe(200); // other routes unaffected
  });

  it('forced 401 → the HTML logon page', async () => {
    sim.setFaults({ forcedStatus: 401 });
    const res = await get(`${BP}/A_Customer('${DEMO.healthy}')`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="SAP NetWeaver Application Server/);
  });

  it('rateLimitPerSecond → 429 with Retry-After and an OData envelope; next second is fine', async () => {
    sim.setFaults({ rateLimitPerSecond: 2 });
    const url = `${BP}/A_Customer('${DEMO.healthy}')`;
    expect((await get(url)).status).toBe(200);
    expect((await get(url)).status).toBe(200);
    const limited = await get(url);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expectODataError((await limited.json()) as Json);
    expect(sim.calls().rateLimited).toBe(1);
    clock += 1000;
    expect((await get(url)).status).toBe(200);
  });
});

describe('server-driven paging', () => {
  const paged = new SapSimulator({ serverPageSize: 20 });
  beforeAll(async () => {
    await paged.start();
  });
  afterAll(async () => {
    await paged.stop();
  });

  it('follows __next ($skiptoken) to read every customer exactly once', async () => {
    let url: string | undefined = `${paged.url}${BP}/A_Customer?$inlinecount=allpages&$select=Customer&$format=json`;
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      const res: Response = await fetch(url, { headers: { authorization: AUTH } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body.d.__count).toBe('58');
      seen.push(...body.d.results.map((r: Json) => r.Customer as string));
      url = body.d.__next as string | undefined;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(SAP_CUSTOMERS.map((c) => c.customerId));
  });
});

describe('batched look-ups: or chains on A_Customer and the open-items cube', () => {
  const chain = (ids: readonly string[]) => `(${ids.map((id) => `Customer eq ${formatStringLiteral(id)}`).join(' or ')})`;
  const itemsPath = `${CUBE}/A_OperationalAcctgDocItemCube`;

  it('A_Customer with a chain of 10 customers (one missing from SAP) answers the 9 it holds, in storage order; the call carried 10 keys', async () => {
    const ids = [...DEMO_CUSTOMERS.slice(40, 55).map((c) => c.customerId)].filter((id, i) => i % 3 !== 2 || id === DEMO.missingFromSap).slice(0, 10);
    expect(ids).toContain(DEMO.missingFromSap);
    const body = await getJson(filterUrl(`${BP}/A_Customer`, chain([...ids].reverse()), '&$select=Customer,CustomerName&$inlinecount=allpages'));
    const expected = SAP_CUSTOMERS.filter((c) => ids.includes(c.customerId)).map((c) => c.customerId);
    expect(expected).toHaveLength(9);
    expect(body.d.results.map((r: Json) => r.Customer)).toEqual(expected);
    expect(body.d.__count).toBe('9');
    expect(sim.batchSizes('customers')).toEqual([10]);
  });

  it('a read by key carries one key', async () => {
    await getJson(`${BP}/A_Customer('${DEMO.healthy}')?$format=json`);
    expect(sim.batchSizes('customer')).toEqual([1]);
    expect(sim.calls().batches.customer).toEqual({ calls: 1, keys: 1, max: 1, sizes: { '1': 1 } });
  });

  it('open items of 3 customers in one chained filter: server-driven paging returns every uncleared item exactly once, each page carrying the 3 keys', async () => {
    const ids: string[] = [DEMO.healthy, DEMO.manyOpenItems, DEMO.multiCurrency];
    const filter = `${chain(ids)} and IsCleared eq false`;
    let url: string | undefined = `${sim.url}${filterUrl(itemsPath, filter, '&$select=Customer,AmountInCompanyCodeCurrency,CompanyCodeCurrency&$inlinecount=allpages')}`;
    const rows: Json[] = [];
    const counts: string[] = [];
    while (url !== undefined && counts.length < 10) {
      const res: Response = await fetch(url, { headers: { authorization: AUTH } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      counts.push(body.d.__count as string);
      rows.push(...(body.d.results as Json[]));
      url = body.d.__next as string | undefined;
      if (url !== undefined) expect(new URL(url).searchParams.get('$filter')).toBe(filter);
    }
    const expected = SAP_CUSTOMERS.filter((c) => ids.includes(c.customerId)).flatMap((c) => c.openItems.filter((i) => !i.cleared).map((i) => `${c.customerId} ${i.amount}`));
    expect(expected.length).toBeGreaterThan(200);
    expect(rows.map((r) => `${r.Customer} ${r.AmountInCompanyCodeCurrency}`)).toEqual(expected);
    expect(counts).toEqual(Array.from({ length: Math.ceil(expected.length / 100) }, () => String(expected.length)));
    expect(sim.batchSizes('openItems')).toEqual(counts.map(() => 3));
  });
});

describe('the URL bound of the web tier (SapLimits.maxUrlBytes)', () => {
  // encoded as fetch sends it (the URL parser percent-encodes ' in a query), so the byte count is exact
  const filter = encodeURIComponent(`Customer eq '${DEMO.manyOpenItems}' and IsCleared eq false`).replace(/'/g, '%27');
  const path = `${CUBE}/A_OperationalAcctgDocItemCube?$filter=${filter}&$format=json&pad=`;
  /** A request target of exactly `bytes` bytes (padded with a custom query parameter, which a gateway ignores). */
  const targetOf = (bytes: number) => `${path}${'a'.repeat(bytes - path.length)}`;

  it('defaults to 8,192 bytes; configurable through the options and /__sim/limits', async () => {
    expect(SAP_LIMITS).toEqual({ maxUrlBytes: 8192, maxBatchBytes: 1_000_000, maxBatchOperations: null });
    expect(sim.limits).toEqual({ maxUrlBytes: 8192, maxBatchBytes: 1_000_000, maxBatchOperations: null });
    expect(new SapSimulator({ limits: { maxUrlBytes: 2048 } }).limits.maxUrlBytes).toBe(2048);
    const put = await fetch(`${sim.url}/__sim/limits`, { method: 'PUT', body: JSON.stringify({ maxUrlBytes: null }) });
    expect(await put.json()).toEqual({ maxUrlBytes: null, maxBatchBytes: 1_000_000, maxBatchOperations: null });
    expect((await fetch(`${sim.url}/__sim/limits`, { method: 'PUT', body: JSON.stringify({ maxStatementLength: 1 }) })).status).toBe(400);
  });

  it('a target of exactly 8,192 bytes is served; 8,193 is 414 with an HTML page, before authentication and without an OData body', async () => {
    const at = targetOf(8192);
    expect(Buffer.byteLength(at)).toBe(8192);
    expect((await get(at)).status).toBe(200);
    const over = await get(targetOf(8193));
    expect(over.status).toBe(414);
    expect(over.headers.get('content-type')).toMatch(/^text\/html/);
    expect(over.headers.get('dataserviceversion')).toBeNull();
    expect(await over.text()).toContain('Request-URI Too Long');
    const anonymous = await fetch(sim.url + targetOf(9000));
    expect(anonymous.status).toBe(414);
    expect(sim.calls().oversized).toBe(2);
    expect(sim.batchSizes('openItems')).toEqual([1]);
  });

  it('__next is the request URL plus $skiptoken: a first page right at the bound gets a next link over it (leave room when splitting)', async () => {
    const first = await get(targetOf(8192));
    const body = (await first.json()) as Json;
    const next = body.d.__next as string;
    expect(next).toContain('$skiptoken=100');
    const nextTarget = next.slice(sim.url.length);
    expect(Buffer.byteLength(nextTarget)).toBe(8192 + '&$skiptoken=100'.length);
    expect((await get(nextTarget)).status).toBe(414);
  });

  it('a smaller configured bound applies to every route', async () => {
    const entity = `${BP}/A_Customer('${DEMO.healthy}')`;
    sim.setLimits({ maxUrlBytes: entity.length });
    expect((await get(entity)).status).toBe(200);
    expect((await get(`${entity}?$format=json`)).status).toBe(414);
    expect((await get(`${BP}/$metadata`)).status).toBe(200);
    expect((await get(`${BP}/$metadata?pad=${'a'.repeat(entity.length)}`)).status).toBe(414);
  });
});
