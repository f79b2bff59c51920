/**
 * Batching per source, across customers, over real HTTP against the simulators: look-ups that
 * arrive while a source is busy go out together in one vendor call (SOQL `IN`, SAP `or` chains,
 * ServiceNow `IN` and a grouped count), each customer gets exactly its own part, a batch too long
 * for the vendor's URL bound is split, a customer missing from a batch is `not_found`, and one bad
 * record fails only its own customer.
 */
import { describe, expect, it } from 'vitest';

import { DEMO, DEMO_CUSTOMERS, demoCustomer } from '../sandbox/shared/seed.js';
import { serviceSuite } from '../support/service-suite.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';

const suite = serviceSuite();

/** One call in flight at a time per source: whatever arrives meanwhile waits for the next call, together. */
const ONE_CALL_AT_A_TIME = { ...OPEN_AUTH, ...GENEROUS_LIMITS, BATCH_CONCURRENCY: '1', AGGREGATION_DEADLINE_MS: '5000', SALESFORCE_TIMEOUT_MS: '4000', SAP_TIMEOUT_MS: '4000', SERVICENOW_TIMEOUT_MS: '4000' };

const everywhere = DEMO_CUSTOMERS.filter((c) => c.presentIn.salesforce && c.presentIn.sap && c.presentIn.servicenow && c.customerId !== DEMO.manyOpenItems);

/** Holds every simulator's answers back long enough for the rest of a burst to arrive while the first calls are in flight. */
function slowVendors(ms: number): void {
  for (const sim of [suite.sims.salesforce, suite.sims.sap, suite.sims.servicenow]) sim.setFaults({ latencyMs: ms });
}

describe('look-ups of many customers at once', () => {
  it('go out in at most two calls per endpoint (the first alone, the rest together), and each customer gets its own data', async () => {
    const s = await suite.service(ONE_CALL_AT_A_TIME);
    slowVendors(1000); // far longer than 20 requests take to arrive, even on a loaded machine
    const customers = everywhere.slice(0, 20);
    const answers = await Promise.all(customers.map((c) => s.get(`/v1/customers/${c.customerId}`)));

    for (const [i, res] of answers.entries()) {
      const c = customers[i]!;
      expect(res.status).toBe(200);
      expect(res.body.customerId).toBe(c.customerId);
      expect(res.body.accountName).toBe(c.name);
      expect(res.body.loyaltyTier).toBe(c.loyaltyTier);
      expect(res.body.openTickets).toBe(c.tickets.filter((t) => t.active).length);
      expect(Object.values(res.body.sources).map((src) => (src as { status: string }).status)).toEqual(['ok', 'ok', 'ok']);
    }
    const { salesforce, sap, servicenow } = suite.sims;
    for (const sizes of [salesforce.batchSizes('query'), sap.batchSizes('openItems'), servicenow.batchSizes('stats')]) {
      expect(sizes.length).toBeLessThanOrEqual(2);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(20);
    }
  });

  it('a customer missing from a batch is not_found in that source, the others in the same call are ok', async () => {
    const s = await suite.service(ONE_CALL_AT_A_TIME);
    slowVendors(100);
    const ids = [everywhere[0]!.customerId, DEMO.missingFromSalesforce, DEMO.missingFromSap, DEMO.missingFromServiceNow, '0019999999', everywhere[1]!.customerId];
    const answers = await Promise.all(ids.map((id) => s.get(`/v1/customers/${id}`)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 200]); // unknown everywhere: 404
    const statuses = answers.filter((r) => r.status === 200).map((r) => [r.body.sources.salesforce.status, r.body.sources.sap.status, r.body.sources.servicenow.status]);
    expect(statuses).toEqual([
      ['ok', 'ok', 'ok'],
      ['not_found', 'ok', 'ok'],
      ['ok', 'not_found', 'ok'],
      ['ok', 'ok', 'not_found'],
      ['ok', 'ok', 'ok'],
    ]);
    expect(suite.sims.salesforce.batchSizes('query').length).toBeLessThanOrEqual(2);
  });

  it("a batch longer than the vendor's URL bound is split into calls that each fit, and every customer is still answered", async () => {
    const s = await suite.service({ ...ONE_CALL_AT_A_TIME, SALESFORCE_MAX_URL_BYTES: '1024', SAP_MAX_URL_BYTES: '1024', SERVICENOW_MAX_URL_BYTES: '1024' });
    slowVendors(100);
    const customers = everywhere.slice(0, 40);
    const answers = await Promise.all(customers.map((c) => s.get(`/v1/customers/${c.customerId}`)));
    expect(answers.map((r) => r.body.accountName)).toEqual(customers.map((c) => c.name));
    expect(answers.every((r) => r.body.sources.sap.status === 'ok' && r.body.sources.servicenow.status === 'ok')).toBe(true);

    const sf = suite.sims.salesforce.requests('query');
    for (const r of sf) expect(Buffer.byteLength(r.url)).toBeLessThanOrEqual(1024);
    for (const r of suite.sims.sap.requests('openItems')) expect(Buffer.byteLength(r.url)).toBeLessThanOrEqual(1024);
    for (const r of suite.sims.servicenow.requests('stats')) expect(Buffer.byteLength(r.url)).toBeLessThanOrEqual(1024);
    // 40 customer numbers do not fit 1,024 bytes in one call: the batch was split, and every customer asked once
    const sizes = suite.sims.salesforce.batchSizes('query');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...sizes)).toBeLessThan(40);
    expect(sizes.filter((n) => n > 1).length).toBeGreaterThanOrEqual(2);
  });

  it('one bad record in a batch fails only its own customer (SAP unavailable for it alone), the others in the same call are ok', async () => {
    const s = await suite.service(ONE_CALL_AT_A_TIME);
    const [bad, ...good] = everywhere.slice(0, 6);
    suite.sims.sap.setOpenItems(bad!.customerId, [{ amount: 'twelve dollars', documentDate: Date.UTC(2026, 10, 1), cleared: false }]);
    slowVendors(100);
    const answers = await Promise.all([bad!, ...good].map((c) => s.get(`/v1/customers/${c.customerId}`)));
    expect(answers[0]!.body.sources.sap).toMatchObject({ status: 'unavailable', reason: 'bad_response' });
    expect(answers[0]!.status).toBe(200); // Salesforce and ServiceNow still answered for it
    for (const res of answers.slice(1)) expect(res.body.sources.sap.status).toBe('ok');
    const sizes = suite.sims.sap.batchSizes('openItems');
    expect(Math.max(...sizes)).toBeGreaterThan(1); // the bad record did share a call with good ones
  });

  it('a lone look-up goes out at once, as a call of one, with the single-customer query', async () => {
    const s = await suite.service(ONE_CALL_AT_A_TIME);
    const c = demoCustomer(DEMO.healthy);
    const res = await s.get(`/v1/customers/${c.customerId}`);
    expect(res.body.sources.salesforce.status).toBe('ok');
    expect(suite.sims.salesforce.batchSizes('query')).toEqual([1]);
    expect(suite.sims.sap.requests('customer')).toHaveLength(1); // the read by key, not a one-term or-chain
    expect(suite.sims.sap.requests('customers')).toHaveLength(0);
  });

  it('a burst that must wait for the next second of the rate limit goes out as one call of everyone who came meanwhile', async () => {
    // one Salesforce call a second, the default of four calls in flight: the first look-up takes this
    // second's slot; the batch that waits for the next one must carry every other customer (small
    // batches each waiting for a second of their own would run past the wait budget: rate_limited)
    const s = await suite.service({ ...OPEN_AUTH, ...GENEROUS_LIMITS, SALESFORCE_RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_MAX_WAIT_MS: '2500', AGGREGATION_DEADLINE_MS: '5000' });
    const customers = everywhere.slice(0, 21);
    const answers = await Promise.all(customers.map((c) => s.get(`/v1/customers/${c.customerId}`)));
    expect(answers.map((r) => r.body.sources.salesforce.status)).toEqual(customers.map(() => 'ok'));
    expect(answers.map((r) => r.body.accountName)).toEqual(customers.map((c) => c.name));
    const sizes = suite.sims.salesforce.batchSizes('query');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(21);
    expect(sizes.length, `calls of ${sizes.join(', ')} customers`).toBeLessThanOrEqual(2);
  });
});
