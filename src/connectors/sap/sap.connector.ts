import { Injectable } from '@nestjs/common';

import { linkedSignal } from '../../upstream/deadline.js';
import { isUpstreamError, UpstreamError } from '../../upstream/upstream-error.js';
import { splitToFit, targetBytes } from '../batching.js';
import type { BillingChange, BillingWriteOutcome, BillingWriter } from '../connector.js';
import { type CustomerConnector, type FetchResult, NOT_FOUND } from '../connector.js';
import { assertIdentifier } from '../identifiers.js';
import { batchBytes } from './sap.batch.js';
import { type BatchAnswer, SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { collectionPage, entity, toCustomerPartial } from './sap.mapper.js';
import {
  BUSINESS_PARTNER_SERVICE,
  customerPath,
  customersUrl,
  customerUrl,
  nextCustomersUrl,
  nextOpenItemsUrl,
  OPEN_ITEMS_SERVICE,
  openItemsOfUrl,
  openItemsUrl,
} from './sap.query.js';

/** SAP's refusals that answer the write (anything else means SAP could not say). */
const WRITE_OUTCOMES: Partial<Record<string, BillingWriteOutcome>> = { not_found: 'unknown_customer', conflict: 'conflict', bad_request: 'refused' };

/**
 * The balance per currency from the open (uncleared) items, plus the customer master to tell
 * "no open items" from "not a customer in SAP". Both reads go out concurrently.
 */
@Injectable()
export class SapConnector implements CustomerConnector, BillingWriter {
  readonly source = 'sap';
  /** The customers and their open items go out together (two reads, or two $batch calls: one per OData service). */
  readonly callsPerBatch = 2;

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
    const read = this.openItemsRead(first, customers);
    while (read.url !== undefined) read.take(await this.client.get(read.url, signal));
    return read.entries;
  }

  private openItemsRead(first: string, customers: string | readonly string[]): CollectionRead {
    const { sapClient, openItemsMaxPages } = this.config;
    return new CollectionRead(first, {
      maxPages: openItemsMaxPages,
      nextUrl: (next) => nextOpenItemsUrl(next, customers, sapClient),
      counted: true,
      fail: (why) => this.partial(why),
      notFound: 'the open items were not found',
      tooMany: `more than ${openItemsMaxPages} pages of open items`,
      offPage: 'the next page link is not a page of the same open items',
      noun: 'open items',
    });
  }

  private customersRead(run: readonly string[]): CollectionRead {
    const { sapClient, openItemsMaxPages } = this.config;
    const fail = (why: string) => new UpstreamError(this.source, 'bad_response', why);
    return new CollectionRead(customersUrl(run, sapClient), {
      maxPages: openItemsMaxPages,
      nextUrl: (next) => nextCustomersUrl(next, run, sapClient),
      counted: false,
      fail,
      notFound: 'the customer collection was not found',
      tooMany: 'too many pages of customers',
      offPage: 'the next page link is not a page of the same customers',
      noun: 'customers',
    });
  }

  get batchMaxCustomers(): number {
    return this.config.batchMaxCustomers;
  }

  /**
   * Many customers in rounds of OData `$batch` calls. The customers are split into runs that each
   * fit one query (SAP_QUERY_MAX_CUSTOMERS, the gateway's URL bound); each run is two queries, its
   * customer masters (an `or` chain on `A_Customer`) and its open items (the same chain on the
   * cube, paged and counted as for one customer). A round sends every query that still has a page
   * to read, one `$batch` per service (the gateway batches within a service), split further by
   * SAP_BATCH_MAX_OPERATIONS and SAP_BATCH_MAX_BYTES; the next round carries only the runs whose
   * answer had a `__next` page. A query refused or unreadable fails its run's customers alone, an
   * unreadable customer fails alone, and a `$batch` call refused as a whole fails the look-up.
   */
  async fetchMany(customerIds: readonly string[], signal: AbortSignal): Promise<Map<string, FetchResult | Error>> {
    for (const id of customerIds) assertIdentifier(this.source, 'customer number', id);
    const { sapClient, maxUrlBytes, queryMaxCustomers } = this.config;
    const fits = (run: readonly string[]) =>
      run.length <= queryMaxCustomers && targetBytes(openItemsOfUrl(run, sapClient)) <= maxUrlBytes && targetBytes(customersUrl(run, sapClient)) <= maxUrlBytes;
    const runs: Run[] = splitToFit(customerIds, fits).map((ids) => ({ ids, customers: this.customersRead(ids), items: this.openItemsRead(openItemsOfUrl(ids, sapClient), ids) }));
    const both = new AbortController();
    const linked = linkedSignal(signal, both.signal);
    try {
      for (;;) {
        const due: Due[] = [];
        for (const run of runs) {
          if (run.error) continue;
          if (run.customers.url !== undefined) due.push({ run, read: run.customers, service: BUSINESS_PARTNER_SERVICE });
          if (run.items.url !== undefined) due.push({ run, read: run.items, service: OPEN_ITEMS_SERVICE });
        }
        if (due.length === 0) break;
        // the token fetch is a call of its own against the rate limit, made before the batches that need it
        if (!this.client.hasCsrfSession) await this.client.openCsrfSession(due[0]!.service, linked);
        await Promise.all(this.batches(due).map(async (batch) => this.answer(batch, await this.client.batch(batch[0]!.service, batch.map((d) => d.read.url!), linked))));
      }
    } catch (err) {
      both.abort();
      throw err;
    }
    const results = new Map<string, FetchResult | Error>();
    for (const run of runs) {
      if (run.error) {
        for (const id of run.ids) results.set(id, run.error);
        continue;
      }
      const wanted = new Set(run.ids);
      const itemsOf = groupBy(run.items.entries, (item) => (typeof item.Customer === 'string' ? item.Customer : ''));
      for (const customer of run.customers.entries) {
        const id = customer.Customer;
        if (typeof id !== 'string' || !wanted.has(id)) continue;
        try {
          results.set(id, { found: true, data: toCustomerPartial(customer, itemsOf.get(id) ?? []) });
        } catch (err) {
          results.set(id, err instanceof Error ? err : this.partial('unreadable open items'));
        }
      }
    }
    for (const id of customerIds) if (!results.has(id)) results.set(id, NOT_FOUND);
    return results;
  }

  /** The due queries as `$batch` calls: per service, at most SAP_BATCH_MAX_OPERATIONS and SAP_BATCH_MAX_BYTES each. */
  private batches(due: readonly Due[]): Due[][] {
    const { batchMaxOperations, batchMaxBytes } = this.config;
    const out: Due[][] = [];
    for (const service of [BUSINESS_PARTNER_SERVICE, OPEN_ITEMS_SERVICE]) {
      let current: Due[] = [];
      let urls: string[] = [];
      for (const d of due) {
        if (d.service !== service) continue;
        const url = d.read.url!.slice(service.length + 1);
        if (current.length > 0 && (current.length >= batchMaxOperations || batchBytes([...urls, url]) > batchMaxBytes)) {
          out.push(current);
          current = [];
          urls = [];
        }
        current.push(d);
        urls.push(url);
      }
      if (current.length > 0) out.push(current);
    }
    return out;
  }

  /** Each answer to its query: the page taken (the next one due, or the read complete), or the run failed. */
  private answer(batch: readonly Due[], answers: readonly BatchAnswer[]): void {
    for (const [i, d] of batch.entries()) {
      if (d.run.error) continue;
      const answer = answers[i]!;
      try {
        if ('error' in answer) throw answer.error;
        d.read.take(answer.body);
      } catch (err) {
        d.run.error = err instanceof Error ? err : this.partial('unreadable answer');
      }
    }
  }

  private partial(why: string): UpstreamError {
    return new UpstreamError(this.source, 'bad_response', `no balance: ${why}`);
  }

  /**
   * Writes billing data to the SAP customer master (CSRF round trip, If-Match). SAP's answers that
   * are about the change (no such customer, an ETag mismatch, a refused value) come back as
   * outcomes; SAP not answering rejects.
   */
  async updateBilling(customerId: string, change: BillingChange, signal: AbortSignal): Promise<BillingWriteOutcome> {
    const body: Record<string, string> = {};
    if (change.billingName !== undefined) body.CustomerFullName = change.billingName;
    if (change.paymentTerms !== undefined) body.PaymentTerms = change.paymentTerms;
    if (change.billingBlocked !== undefined) body.BillingIsBlockedForCustomer = change.billingBlocked ? '01' : '';
    try {
      assertIdentifier(this.source, 'customer number', customerId);
      await this.client.patch(customerPath(customerId, this.config.sapClient), body, signal);
      return 'written';
    } catch (err) {
      const outcome = isUpstreamError(err) ? WRITE_OUTCOMES[err.kind] : undefined;
      if (outcome === undefined) throw err;
      return outcome;
    }
  }
}

/** A run of customers read together: its two queries, and why it failed once one did. */
interface Run {
  ids: readonly string[];
  customers: CollectionRead;
  items: CollectionRead;
  error?: Error;
}

/** A query of a run with a page to read, and the service it goes to. */
interface Due {
  run: Run;
  read: CollectionRead;
  service: string;
}

interface ReadRules {
  maxPages: number;
  /** The gateway's `__next` link → our request for that page, or undefined when it is not a page of the same query. */
  nextUrl: (next: string) => string | undefined;
  /** The pages must add up to the `__count` they state. */
  counted: boolean;
  fail: (why: string) => Error;
  notFound: string;
  tooMany: string;
  offPage: string;
  noun: string;
}

/**
 * A collection read page after page as the gateway hands them out (`__next`), at most `maxPages`:
 * what was read so far and the URL of the page due (undefined once complete). What was read must
 * add up to the `__count` each page states: a list cut short (too many pages, a next link
 * elsewhere, entries changed between pages) fails, so a partial sum is never taken for the whole.
 */
class CollectionRead {
  readonly entries: Record<string, unknown>[] = [];
  private total: number | undefined;
  private pages = 0;

  constructor(
    public url: string | undefined,
    private readonly rules: ReadRules,
  ) {}

  /** The due page's body (undefined: the gateway answered 404); throws when the read cannot complete. */
  take(body: unknown): void {
    const { rules } = this;
    this.pages++;
    this.url = undefined;
    // the collection always exists (empty when nothing matches): a 404 is no answer about it
    if (body === undefined) throw rules.fail(rules.notFound);
    const { results, next, count } = collectionPage(body);
    this.entries.push(...results);
    if (rules.counted && count !== undefined && this.total !== undefined && count !== this.total) throw rules.fail(`the ${rules.noun} changed while being read`);
    this.total ??= count;
    if (next !== undefined) {
      if (this.pages >= rules.maxPages) throw rules.fail(rules.tooMany);
      const url = rules.nextUrl(next);
      if (url === undefined) throw rules.fail(rules.offPage);
      this.url = url;
      return;
    }
    if (rules.counted && this.total !== undefined && this.entries.length !== this.total) throw rules.fail(`read ${this.entries.length} ${rules.noun} of ${this.total}`);
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
