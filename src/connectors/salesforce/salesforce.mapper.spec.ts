import { describe, expect, it } from 'vitest';

import { toCustomerPartial } from './salesforce.mapper.js';
import type { AccountFields } from './salesforce.query.js';

const FIELDS: AccountFields = { customerNumberField: 'Customer_Number__c', loyaltyTierField: 'Loyalty_Tier__c', lastInteractionField: 'Last_Interaction__c', emailField: 'Email__c' };

const account = (lastInteraction: unknown) => ({
  attributes: { type: 'Account', url: '/services/data/v66.0/sobjects/Account/001000000000001AAA' },
  Id: '001000000000001AAA',
  Name: 'Acme Corp',
  Phone: '+14155550100',
  Email__c: 'c@acme.example',
  Loyalty_Tier__c: 'Gold',
  Last_Interaction__c: lastInteraction,
});

describe('Salesforce toCustomerPartial', () => {
  it('maps an Account to the canonical fields', () => {
    expect(toCustomerPartial(account('2026-10-12'), FIELDS)).toEqual({
      accountName: 'Acme Corp',
      loyaltyTier: 'Gold',
      lastInteractionDate: '2026-10-12',
      email: 'c@acme.example',
      phone: '+14155550100',
    });
  });

  it('a DateTime last-interaction field (…+0000, not ISO 8601) becomes its ISO date in UTC', () => {
    expect(toCustomerPartial(account('2026-11-20T14:03:11.000+0000'), FIELDS).lastInteractionDate).toBe('2026-11-20');
    expect(toCustomerPartial(account('2026-11-20T23:59:59.000+0000'), FIELDS).lastInteractionDate).toBe('2026-11-20');
  });

  it('an unreadable or empty value is left out, not passed through', () => {
    for (const bad of ['20.11.2026', '2026-02-30', '', null, 20261120]) {
      expect(toCustomerPartial(account(bad), FIELDS).lastInteractionDate, String(bad)).toBeUndefined();
    }
  });
});
