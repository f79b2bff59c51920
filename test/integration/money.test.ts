/**
 * SAP money that is always right, end to end over real HTTP: a customer whose open items span
 * three pages of the gateway's server-driven paging, and one with open items in three currencies,
 * through `GET /v1/customers/{id}` and the Genesys custom action; the page bound; and dates in
 * ISO 8601 whatever the vendor sends.
 */
import Big from 'big.js';
import { describe, expect, it } from 'vitest';

import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import { serviceSuite } from '../support/service-suite.js';

const suite = serviceSuite();

/** What the seed says each currency's open balance is (computed, not copied): exact, in its minor units. */
function seededBalances(customerId: string): Array<{ amount: string; currency: string }> {
  const c = demoCustomer(customerId);
  const sums = new Map<string, Big>();
  for (const item of c.openItems.filter((i) => !i.cleared)) {
    const currency = item.currency ?? c.currency;
    sums.set(currency, (sums.get(currency) ?? new Big(0)).plus(item.amount));
  }
  return [...sums.keys()].sort().map((currency) => {
    const decimals = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return { amount: (sums.get(currency) as Big).round(decimals, Big.roundHalfUp).toFixed(decimals), currency };
  });
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('open items on several pages of the gateway', () => {
  const c = demoCustomer(DEMO.manyOpenItems);

  it('GET /v1/customers: the exact balance of every page, read page after page', async () => {
    const s = await suite.service();
    const [expected] = seededBalances(c.customerId);
    const res = await s.get(`/v1/customers/${c.customerId}`);
    expect(res.status).toBe(200);
    expect(res.body.sources.sap.status).toBe('ok');
    expect(res.body).toMatchObject({ balance: expected.amount, currency: c.currency, balances: [expected] });
    // three pages (100, 100, the rest), each asked once, the next ones by their $skiptoken
    const pages = suite.sims.sap.requests('openItems');
    expect(pages.map((r) => r.query.$skiptoken)).toEqual([undefined, '100', '200']);
  });

  it('the sum stays exact with any page size the gateway picks', async () => {
    const s = await suite.service();
    suite.sims.sap.serverPageSize = 30; // 8 pages: within SAP_OPEN_ITEMS_MAX_PAGES (10)
    try {
      const res = await s.get(`/v1/customers/${c.customerId}`);
      expect(res.body.balances).toEqual(seededBalances(c.customerId));
      expect(suite.sims.sap.callCount('openItems')).toBe(Math.ceil(c.openItems.filter((i) => !i.cleared).length / 30));
    } finally {
      suite.sims.sap.serverPageSize = 100;
    }
  });

  it('more pages than SAP_OPEN_ITEMS_MAX_PAGES: no balance at all (SAP bad_response), never the first pages as if they were all', async () => {
    const s = await suite.service({ SAP_OPEN_ITEMS_MAX_PAGES: '2' });
    const res = await s.get(`/v1/customers/${c.customerId}`);
    expect(res.status).toBe(200);
    expect(res.body.sources.sap).toMatchObject({ status: 'unavailable', reason: 'bad_response' });
    expect(res.body).toMatchObject({ balance: null, currency: null, balances: null, degraded: true, accountName: c.name });
    expect(suite.sims.sap.callCount('openItems')).toBe(2);
    // a customer whose items fit the bound is unaffected
    const small = await s.get(`/v1/customers/${DEMO.healthy}`);
    expect(small.body.sources.sap.status).toBe('ok');
    expect(small.body.balances).toEqual(seededBalances(DEMO.healthy));
  });

  it('the custom action carries it too: balance, currency and a readable summary', async () => {
    const s = await suite.service();
    const [expected] = seededBalances(c.customerId);
    const res = await s.post('/genesys/v1/customer-lookup', { customerId: c.customerId });
    expect(res.status).toBe(200);
    const grouped = expected.amount.replace(/\B(?=(\d{3})+\.)/g, ',');
    expect(res.body.data.customerView).toMatchObject({ balance: expected.amount, currency: c.currency, balanceSummary: `${grouped} ${c.currency}`, balanceCurrencies: 1 });
  });
});

describe('open items in several currencies', () => {
  const c = demoCustomer(DEMO.multiCurrency);

  it('GET /v1/customers: one exact balance per currency, no single balance (SAP ok, not an error)', async () => {
    const s = await suite.service();
    const res = await s.get(`/v1/customers/${c.customerId}`);
    expect(res.status).toBe(200);
    expect(res.body.sources.sap.status).toBe('ok');
    expect(res.body.degraded).toBe(false);
    expect(res.body.balances).toEqual(seededBalances(c.customerId));
    // spelled out once, so the seed cannot drift unnoticed: EUR 1250.500 − 100.250; USD 80.000 + 0.005 rounded once; JPY without decimals
    expect(res.body.balances).toEqual([
      { amount: '1150.25', currency: 'EUR' },
      { amount: '12000', currency: 'JPY' },
      { amount: '80.01', currency: 'USD' },
    ]);
    expect(res.body).toMatchObject({ balance: null, currency: null });
  });

  it('the custom action: flat, with the summary and the number of currencies instead of one balance', async () => {
    const s = await suite.service();
    const res = await s.post('/genesys/v1/customer-lookup', { customerId: c.customerId });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    const view = res.body.data.customerView;
    expect(view).toMatchObject({ balanceSummary: '1,150.25 EUR; 12,000 JPY; 80.01 USD', balanceCurrencies: 3 });
    // left out, so the data action's defaults ("") apply rather than a misleading number
    expect(view).not.toHaveProperty('balance');
    expect(view).not.toHaveProperty('currency');
    for (const value of Object.values(view)) expect(['string', 'number', 'boolean']).toContain(typeof value);
  });
});

describe('dates in ISO 8601', () => {
  it('a Salesforce DateTime last-interaction field (…+0000) arrives as its ISO date; instants are UTC with Z', async () => {
    const c = demoCustomer(DEMO.healthy);
    const s = await suite.service({ SALESFORCE_LAST_INTERACTION_FIELD: 'LastModifiedDate' });
    const res = await s.get(`/v1/customers/${c.customerId}`);
    expect(res.status).toBe(200);
    // the simulator sends LastModifiedDate as `${date}T14:03:11.000+0000`, Salesforce's own format
    expect(res.body.lastInteractionDate).toBe(c.lastInteractionDate);
    expect(res.body.lastUpdated).toMatch(INSTANT);
    for (const source of ['salesforce', 'sap', 'servicenow']) expect(res.body.sources[source].fetchedAt).toMatch(INSTANT);
  });

  it('the OpenAPI document says which field is a date and which an instant', async () => {
    const s = await suite.service();
    const res = await s.get('/docs-json');
    expect(res.status).toBe(200);
    const schemas = res.body.components.schemas;
    expect(schemas.Customer360.properties.lastInteractionDate.format).toBe('date');
    expect(schemas.Customer360.properties.lastUpdated.format).toBe('date-time');
    expect(schemas.SourceState.properties.fetchedAt.format).toBe('date-time');
    expect(schemas.Customer360.properties.balances.items.$ref).toBe('#/components/schemas/Balance');
    expect(Object.keys(schemas.Balance.properties).sort()).toEqual(['amount', 'currency']);
  });
});
