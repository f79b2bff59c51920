/**
 * Seed → Salesforce records. Only customers with `presentIn.salesforce` exist as Accounts.
 */
import { DEMO_CUSTOMERS, type DemoCustomer } from '../shared/seed.js';
import type { SObjectSchema, SRecord } from './soql.js';

/** The Account fields the simulator knows (API names as Salesforce spells them). */
export const ACCOUNT_SCHEMA: SObjectSchema = Object.freeze({
  name: 'Account',
  fields: Object.freeze([
    { name: 'Id', type: 'id' },
    { name: 'Name', type: 'string' },
    { name: 'Phone', type: 'phone' },
    { name: 'Customer_Number__c', type: 'string' },
    { name: 'Loyalty_Tier__c', type: 'picklist' },
    { name: 'Last_Interaction_Date__c', type: 'date' },
    { name: 'Email__c', type: 'email' },
    { name: 'BillingCity', type: 'string' },
    { name: 'BillingCountry', type: 'string' },
    { name: 'CreatedDate', type: 'datetime' },
    { name: 'LastModifiedDate', type: 'datetime' },
  ] as const),
});

export const SCHEMAS: readonly SObjectSchema[] = Object.freeze([ACCOUNT_SCHEMA]);

export function accountFromCustomer(c: DemoCustomer): SRecord {
  return {
    Id: c.salesforceId,
    Name: c.name,
    Phone: c.phone,
    Customer_Number__c: c.customerId,
    Loyalty_Tier__c: c.loyaltyTier,
    Last_Interaction_Date__c: c.lastInteractionDate,
    Email__c: c.email,
    BillingCity: c.city,
    BillingCountry: c.country,
    // DateTime fields as Salesforce sends them: UTC, milliseconds, an offset without a colon
    CreatedDate: CREATED_DATE,
    LastModifiedDate: `${c.lastInteractionDate}T14:03:11.000+0000`,
  };
}

/** When every seeded Account was created. */
const CREATED_DATE = '2022-09-05T08:00:00.000+0000';

/** A fresh, mutable copy of the seeded Accounts (seed order). */
export function seedAccounts(customers: readonly DemoCustomer[] = DEMO_CUSTOMERS): SRecord[] {
  return customers.filter((c) => c.presentIn.salesforce).map(accountFromCustomer);
}
