import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { resetSimulators } from '../sandbox/simulators.js';
import { startService, type TestService } from '../support/test-app.js';

let s: TestService;
beforeAll(async () => {
  s = await startService();
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => resetSimulators(s.sims));

const HOSTILE_IDS = [
  "0010100001' OR '1'='1",
  "' or '1'='1",
  '0010100001\\',
  "0010100001'",
  '0010100001^ORactive=true',
  '0010100001^NQactive=true',
  'x^^OR',
  '0010100001 OR Name != null',
  '{+14155550100}',
  '0010100001\u0000',
  '001010000１', // full-width digit
  'é'.repeat(10),
  '9'.repeat(65),
  '../../etc/passwd',
];

function callsToCrms(): number {
  return s.sims.salesforce.callCount() + s.sims.sap.callCount() + s.sims.servicenow.callCount();
}

describe('hostile identifiers', () => {
  for (const id of HOSTILE_IDS) {
    it(`REST path ${JSON.stringify(id).slice(0, 40)} → 400, nothing reaches a CRM`, async () => {
      const res = await s.get(`/v1/customers/${encodeURIComponent(id)}`);
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual(['customerId must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit']);
      expect(callsToCrms()).toBe(0);
    });
    it(`custom action customerId ${JSON.stringify(id).slice(0, 40)} → 400, nothing reaches a CRM`, async () => {
      const res = await s.post('/genesys/v1/customer-lookup', { customerId: id });
      expect(res.status).toBe(400);
      expect(res.body.status).toBe('error');
      expect(callsToCrms()).toBe(0);
    });
  }

  it('an e-mail with a quote reaches Salesforce as the exact escaped literal and matches nothing', async () => {
    const email = "o'brien@example.com";
    const res = await s.get(`/v1/customers?email=${encodeURIComponent(email)}`);
    expect(res.status).toBe(404);
    // every SOQL request sent (a refused session makes it two, the same) carries the escaped literal
    const soql = [...new Set(s.sims.salesforce.requests('query').map((r) => r.query.q))];
    expect(soql).toHaveLength(1);
    expect(soql[0]).toContain("Email__c = 'o\\'brien@example.com'");
  });

  it('an e-mail carrying a SOQL injection is refused or stays one literal', async () => {
    const res = await s.get(`/v1/customers?email=${encodeURIComponent("a@b.co' OR Name != '")}`);
    expect(res.status).toBe(400);
    expect(callsToCrms()).toBe(0);
  });

  it('a phone carrying SOSL syntax is refused with a 400 before any CRM call', async () => {
    for (const phone of ['+1415555010*', '+1 (415) 555-0100} OR {x', "+1415555'0100"]) {
      const res = await s.get(`/v1/customers?phone=${encodeURIComponent(phone)}`);
      expect(res.status, phone).toBe(400);
      expect(res.body.details, phone).toEqual(['phone must be a valid phone number']);
    }
    expect(callsToCrms()).toBe(0);
  });

  it('a phone written with SOSL reserved characters ( ) - + is normalized to E.164 and reaches SOSL escaped', async () => {
    const res = await s.get(`/v1/customers?phone=${encodeURIComponent('+1 (415) 555-0100')}`);
    expect(res.status).toBe(200);
    // every SOSL request sent (a refused session makes it two, the same) is this one
    expect([...new Set(s.sims.salesforce.requests('search').map((r) => r.query.q))]).toEqual(['FIND {\\+14155550100} IN PHONE FIELDS RETURNING Account(Id, Customer_Number__c) LIMIT 5']);
  });

  it('malformed bodies get a 4xx (400, or 413 past the size limit), no internals, and no CRM call', async () => {
    const cases: Array<[string, number]> = [
      ['{"customerId":', 400],
      ['[]', 400],
      ['null', 400],
      ['{"customerId":{"$ne":null}}', 400],
      ['{"customerId":["0010100001"]}', 400],
      [JSON.stringify({ phone: 'x'.repeat(100_000) }), 413],
    ];
    for (const [body, status] of cases) {
      const res = await s.post('/genesys/v1/customer-lookup', body, { 'content-type': 'application/json' });
      expect(res.status, body.slice(0, 30)).toBe(status);
      expect(res.text).not.toMatch(/at \w+ \(|node_modules|FST_|Nest|fastify|\/work\//i);
    }
    expect(callsToCrms()).toBe(0);
  });
});
