import { Injectable } from '@nestjs/common';
import { linkedSignal } from '../../resilience/deadline.js';
import { type CustomerConnector, type FetchResult, NOT_FOUND } from '../connector.js';
import { ConnectorError } from '../connector.errors.js';
import { splitToFit, targetBytes } from '../batching.js';
import { assertIdentifier } from '../identifiers.js';
import { SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { collectionPage, entity, toCustomerPartial } from './sap.mapper.js';
import { customerPath, customersUrl, customerUrl, nextCustomersUrl, nextOpenItemsUrl, openItemsOfUrl, openItemsUrl } from './sap.query.js';

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
  private openItems(customerId: string, signal: AbortSignal): Promise<Record<string, unknown>[]> {
    return this.readAll(openItemsUrl(customerId, this.config.sapClient), customerId, signal);
  }

  /** A collection read to its end (paged by the gateway), checked against its `__count`. */
  private async readAll(first: string, customers: string | readonly string[], signal: AbortSignal): Promise<Record<string, unknown>[]> {
    const { sapClient, openItemsMaxPages } = this.config;
    const items: Record<string, unknown>[] = [];
    let total: number | undefined;
    let url = first;
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
      const nextUrl = nextOpenItemsUrl(next, customers, sapClient);
      if (nextUrl === undefined) throw this.partial('the next page link is not a page of the same open items');
      url = nextUrl;
    }
    if (total !== undefined && items.length !== total) throw this.partial(`read ${items.length} open items of ${total}`);
    return items;
  }

  get batchMaxCustomers(): number {
    return this.config.batchMaxCustomers;
  }

  /**
   * Many customers in two reads per run that fits the gateway's URL bound: the customer masters
   * (an `or` chain on `A_Customer`) and their open items (the same chain on the cube, paged and
   * counted as for one). A customer whose items cannot be summed fails alone.
   */
  async fetchMany(customerIds: readonly string[], signal: AbortSignal): Promise<Map<string, FetchResult | Error>> {
    for (const id of customerIds) assertIdentifier(this.source, 'customer number', id);
    const { sapClient, maxUrlBytes } = this.config;
    const fits = (run: readonly string[]) => targetBytes(openItemsOfUrl(run, sapClient)) <= maxUrlBytes && targetBytes(customersUrl(run, sapClient)) <= maxUrlBytes;
    const results = new Map<string, FetchResult | Error>();
    const both = new AbortController();
    const linked = linkedSignal(signal, both.signal);
    await Promise.all(
      splitToFit(customerIds, fits).map(async (run) => {
        const [customers, items] = await Promise.all([this.customers(run, linked), this.readAll(openItemsOfUrl(run, sapClient), run, linked)]);
        const itemsOf = groupBy(items, (item) => (typeof item.Customer === 'string' ? item.Customer : ''));
        for (const [id, customer] of customers) {
          try {
            results.set(id, { found: true, data: toCustomerPartial(customer, itemsOf.get(id) ?? []) });
          } catch (err) {
            results.set(id, err instanceof Error ? err : this.partial('unreadable open items'));
          }
        }
      }),
    ).catch((err: unknown) => {
      both.abort();
      throw err;
    });
    for (const id of customerIds) if (!results.has(id)) results.set(id, NOT_FOUND);
    return results;
  }

  /** The customer masters of a run, by customer number (every page; a run fits one page in practice). */
  private async customers(run: readonly string[], signal: AbortSignal): Promise<Map<string, Record<string, unknown>>> {
    const wanted = new Set(run);
    const found = new Map<string, Record<string, unknown>>();
    let url: string | undefined = customersUrl(run, this.config.sapClient);
    for (let page = 1; url !== undefined; page++) {
      const body = await this.client.get(url, signal);
      if (body === undefined) throw new ConnectorError(this.source, 'bad_response', 'the customer collection was not found');
      const { results, next } = collectionPage(body);
      for (const entry of results) if (typeof entry.Customer === 'string' && wanted.has(entry.Customer)) found.set(entry.Customer, entry);
      if (next !== undefined && page >= this.config.openItemsMaxPages) throw new ConnectorError(this.source, 'bad_response', 'too many pages of customers');
      url = next === undefined ? undefined : nextCustomersUrl(next, run, this.config.sapClient);
      if (next !== undefined && url === undefined) throw new ConnectorError(this.source, 'bad_response', 'the next page link is not a page of the same customers');
    }
    return found;
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

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
