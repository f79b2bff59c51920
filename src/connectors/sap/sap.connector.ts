import { Injectable } from '@nestjs/common';
import type { CustomerConnector, FetchResult } from '../connector.js';
import { assertIdentifier } from '../identifiers.js';
import { SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { entity, results, toCustomerPartial } from './sap.mapper.js';
import { customerUrl, openItemsUrl } from './sap.query.js';

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
    const [customer, items] = await Promise.all([
      this.client.get(customerUrl(customerId, this.config.sapClient), signal),
      this.client.get(openItemsUrl(customerId, this.config.sapClient), signal),
    ]);
    if (customer === undefined) return { found: false };
    return { found: true, data: toCustomerPartial(entity(customer), items === undefined ? [] : results(items)) };
  }
}
