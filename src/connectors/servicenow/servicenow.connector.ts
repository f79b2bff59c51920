import { Injectable } from '@nestjs/common';

import { splitToFit, targetBytes } from '../batching.js';
import { type CustomerConnector, type FetchResult, NOT_FOUND } from '../connector.js';
import { assertIdentifier } from '../identifiers.js';
import { ServiceNowClient } from './servicenow.client.js';
import { ServiceNowConfig } from './servicenow.config.js';
import { groupedCounts, statsCount, tableRecords, toCustomerPartial } from './servicenow.mapper.js';
import { companiesUrl, companyUrl, openTicketCountsUrl, openTicketCountUrl } from './servicenow.query.js';

/** Open tickets: the company (Table API, to tell "unknown customer" from "no tickets") and the active incident count (Aggregate API). */
@Injectable()
export class ServiceNowConnector implements CustomerConnector {
  readonly source = 'servicenow';
  /** The company read and the count go out together. */
  readonly callsPerBatch = 2;

  constructor(
    private readonly config: ServiceNowConfig,
    private readonly client: ServiceNowClient,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  async fetch(customerId: string, signal: AbortSignal): Promise<FetchResult> {
    assertIdentifier(this.source, 'customer number', customerId);
    const field = this.config.customerNumberField;
    const [company, stats] = await Promise.all([
      this.client.get(companyUrl(field, customerId), signal),
      this.client.get(openTicketCountUrl(field, customerId), signal),
    ]);
    if (tableRecords(company).length === 0) return { found: false };
    return { found: true, data: toCustomerPartial(statsCount(stats)) };
  }

  get batchMaxCustomers(): number {
    return this.config.batchMaxCustomers;
  }

  /** Many customers in two calls per run that fits the URL bound: their companies (`IN` list) and their active incident counts grouped by customer number. */
  async fetchMany(customerIds: readonly string[], signal: AbortSignal): Promise<Map<string, FetchResult | Error>> {
    for (const id of customerIds) assertIdentifier(this.source, 'customer number', id);
    const field = this.config.customerNumberField;
    const fits = (run: readonly string[]) => targetBytes(openTicketCountsUrl(field, run)) <= this.config.maxUrlBytes && targetBytes(companiesUrl(field, run)) <= this.config.maxUrlBytes;
    const results = new Map<string, FetchResult | Error>();
    await Promise.all(
      splitToFit(customerIds, fits).map(async (run) => {
        const [companies, stats] = await Promise.all([this.client.get(companiesUrl(field, run), signal), this.client.get(openTicketCountsUrl(field, run), signal)]);
        const counts = groupedCounts(stats);
        const wanted = new Set(run);
        for (const company of tableRecords(companies)) {
          const number = company[field];
          if (typeof number === 'string' && wanted.has(number)) results.set(number, { found: true, data: toCustomerPartial(counts.get(number) ?? 0) });
        }
      }),
    );
    for (const id of customerIds) if (!results.has(id)) results.set(id, NOT_FOUND);
    return results;
  }
}
