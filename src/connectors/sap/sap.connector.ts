import { Injectable } from '@nestjs/common';
import { deadlineOf, setDeadline } from '../../resilience/deadline.js';
import type { CustomerConnector, FetchResult } from '../connector.js';

/** Billing data an agent may change, in canonical terms. */
export interface BillingChange {
  billingName?: string;
  paymentTerms?: string;
  billingBlocked?: boolean;
}
import { assertIdentifier } from '../identifiers.js';
import { SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { entity, results, toCustomerPartial } from './sap.mapper.js';
import { customerPath, customerUrl, openItemsUrl } from './sap.query.js';

/**
 * Balance and currency from the open (uncleared) items, plus the customer master to tell
 * "no open items" from "not a customer in SAP". Both reads go out concurrently.
 */
@Injectable()
export class SapConnector implements CustomerConnector {
  readonly source = 'sap';

  constructor(
    private readonly config: SapConfig,
    private readonly client: SapClient,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  async fetch(customerId: string, signal: AbortSignal): Promise<FetchResult> {
    assertIdentifier(this.source, 'customer number', customerId);
    // the two reads fail together: when one fails, the other stops (no orphaned retries against a failing SAP)
    const both = new AbortController();
    const linked = setDeadline(AbortSignal.any([signal, both.signal]), deadlineOf(signal));
    const [customer, items] = await Promise.all([
      this.client.get(customerUrl(customerId, this.config.sapClient), linked),
      this.client.get(openItemsUrl(customerId, this.config.sapClient), linked),
    ]).catch((err: unknown) => {
      both.abort();
      throw err;
    });
    if (customer === undefined) return { found: false };
    return { found: true, data: toCustomerPartial(entity(customer), items === undefined ? [] : results(items)) };
  }

  /** Writes billing data to the SAP customer master (CSRF round trip, If-Match). */
  async updateBilling(customerId: string, change: BillingChange, signal: AbortSignal): Promise<void> {
    assertIdentifier(this.source, 'customer number', customerId);
    const body: Record<string, string> = {};
    if (change.billingName !== undefined) body.CustomerFullName = change.billingName;
    if (change.paymentTerms !== undefined) body.PaymentTerms = change.paymentTerms;
    if (change.billingBlocked !== undefined) body.BillingIsBlockedForCustomer = change.billingBlocked ? '01' : '';
    await this.client.patch(customerPath(customerId, this.config.sapClient), body, signal);
  }
}
