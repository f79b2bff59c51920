import { Injectable } from '@nestjs/common';

import type { CustomerConnector, FetchResult } from '../connector.js';
import { assertIdentifier } from '../identifiers.js';
import { ServiceNowClient } from './servicenow.client.js';
import { ServiceNowConfig } from './servicenow.config.js';
import { statsCount, tableRecords, toCustomerPartial } from './servicenow.mapper.js';
import { companyUrl, openTicketCountUrl } from './servicenow.query.js';

/** Open tickets: the company (Table API, to tell "unknown customer" from "no tickets") and the active incident count (Aggregate API). */
@Injectable()
export class ServiceNowConnector implements CustomerConnector {
  readonly source = 'servicenow';

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
}
