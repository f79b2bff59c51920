import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { DEMO, DEMO_CUSTOMERS, demoCustomer, MAX_SEEDED_CUSTOMERS, seededCustomers } from './seed.js';

describe('demo seed shared by every simulator', () => {
  it('has at least 50 customers with unique ids, phones and e-mails', () => {
    expect(DEMO_CUSTOMERS.length).toBeGreaterThanOrEqual(50);
    for (const key of ['customerId', 'phone', 'email', 'salesforceId', 'sapBusinessPartner', 'serviceNowCompanySysId'] as const) {
      expect(new Set(DEMO_CUSTOMERS.map((c) => c[key])).size, key).toBe(DEMO_CUSTOMERS.length);
    }
  });

  it('uses only valid E.164 phone numbers', () => {
    const invalid = DEMO_CUSTOMERS.filter((c) => !parsePhoneNumberFromString(c.phone)?.isValid() || parsePhoneNumberFromString(c.phone)?.number !== c.phone);
    expect(invalid.map((c) => c.phone)).toEqual([]);
  });

  it('has balances in several currencies, including one without minor units', () => {
    const currencies = new Set(DEMO_CUSTOMERS.map((c) => c.currency));
    expect(currencies.size).toBeGreaterThanOrEqual(4);
    expect(currencies.has('JPY')).toBe(true);
  });

  it('has customers missing from each system and one with many open tickets', () => {
    expect(demoCustomer(DEMO.missingFromSalesforce).presentIn.salesforce).toBe(false);
    expect(demoCustomer(DEMO.missingFromSap).presentIn.sap).toBe(false);
    expect(demoCustomer(DEMO.missingFromServiceNow).presentIn.servicenow).toBe(false);
    expect(demoCustomer(DEMO.onlyInSalesforce).presentIn).toEqual({ salesforce: true, sap: false, servicenow: false });
    expect(demoCustomer(DEMO.manyTickets).tickets.filter((t) => t.active).length).toBeGreaterThanOrEqual(20);
  });

  it('extends deterministically for load tests: the first 60 are the demo customers, the rest exist everywhere', () => {
    const many = seededCustomers(MAX_SEEDED_CUSTOMERS);
    expect(many.slice(0, DEMO_CUSTOMERS.length)).toEqual(DEMO_CUSTOMERS);
    expect(seededCustomers(500)).toEqual(many.slice(0, 500));
    for (const key of ['customerId', 'phone', 'email', 'salesforceId', 'sapBusinessPartner', 'serviceNowCompanySysId'] as const) {
      expect(new Set(many.map((c) => c[key])).size, key).toBe(many.length);
    }
    expect(many.slice(DEMO_CUSTOMERS.length).every((c) => c.presentIn.salesforce && c.presentIn.sap && c.presentIn.servicenow)).toBe(true);
    expect(many.every((c) => /^\d{10}$/.test(c.customerId) && /^\+\d{8,15}$/.test(c.phone))).toBe(true);
    expect(() => seededCustomers(MAX_SEEDED_CUSTOMERS + 1)).toThrow();
  });
});
