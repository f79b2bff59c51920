import { Injectable } from '@nestjs/common';
import { linkedSignal } from '../../resilience/deadline.js';
import type { CustomerConnector, FetchResult } from '../connector.js';
import { ConnectorError } from '../connector.errors.js';
import { assertIdentifier } from '../identifiers.js';
import { SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { collectionPage, entity, toCustomerPartial } from './sap.mapper.js';
import { customerPath, customerUrl, nextOpenItemsUrl, openItemsUrl } from './sap.query.js';

/** Billing data an agent may change, in canonical terms. */
export interface BillingChange {
  billingName?: string;
  paymentTerms?: string;
  billingBlocked?: boolean;
}

/**
 * The balance per currency from the open (uncleared) items, plus the customer master to tell
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
    const linked = linkedSignal(signal, both.signal);
    const [customer, items] = await Promise.all([this.client.get(customerUrl(customerId, this.config.sapClient), linked), this.openItems(customerId, linked)]).catch((err: unknown) => {
      both.abort();
      throw err;
    });
    if (customer === undefined) return { found: false };
    return { found: true, data: toCustomerPartial(entity(customer), items) };
  }

  /**
   * Every open item of a customer, page after page as the gateway hands them out (`__next`), at
   * most SAP_OPEN_ITEMS_MAX_PAGES pages. What was read must add up to the `__count` each page
   * states: a list cut short (too many pages, a next link elsewhere, items cleared between pages)
   * fails as a bad response, so a partial sum is never shown as the balance.
   */
  private async openItems(customerId: string, signal: AbortSignal): Promise<Record<string, unknown>[]> {
    const { sapClient, openItemsMaxPages } = this.config;
    const items: Record<string, unknown>[] = [];
    let total: number | undefined;
    let url = openItemsUrl(customerId, sapClient);
    for (let page = 1; ; page++) {
      const body = await this.client.get(url, signal);
      // the collection always exists (empty when nothing is open): a 404 is no answer about the items
      if (body === undefined) throw this.partial('the open items were not found');
      const { results, next, count } = collectionPage(body);
      items.push(...results);
      if (count !== undefined && total !== undefined && count !== total) throw this.partial('the open items changed while being read');
      total ??= count;
      if (next === undefined) break;
      if (page >= openItemsMaxPages) throw this.partial(`more than ${openItemsMaxPages} pages of open items`);
      const nextUrl = nextOpenItemsUrl(next, customerId, sapClient);
      if (nextUrl === undefined) throw this.partial('the next page link is not a page of the same open items');
      url = nextUrl;
    }
    if (total !== undefined && items.length !== total) throw this.partial(`read ${items.length} open items of ${total}`);
    return items;
  }

  private partial(why: string): ConnectorError {
    return new ConnectorError(this.source, 'bad_response', `no balance: ${why}`);
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
