import { Injectable } from '@nestjs/common';

import type { CustomerConnector, CustomerDirectory, FetchResult } from '../connector.js';
import { assertIdentifier } from '../identifiers.js';
import { SalesforceClient } from './salesforce.client.js';
import { SalesforceConfig } from './salesforce.config.js';
import { customerNumbers, toCustomerPartial } from './salesforce.mapper.js';
import { accountByCustomerNumber, accountsByEmail, accountsByPhone } from './salesforce.query.js';

const LOOKUP_LIMIT = 5;

/** Account name, loyalty tier, last interaction and contact details; also the phone/e-mail directory. */
@Injectable()
export class SalesforceConnector implements CustomerConnector, CustomerDirectory {
  readonly source = 'salesforce';

  constructor(
    private readonly config: SalesforceConfig,
    private readonly client: SalesforceClient,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  async fetch(customerId: string, signal: AbortSignal): Promise<FetchResult> {
    assertIdentifier(this.source, 'customer number', customerId);
    const records = await this.client.query(accountByCustomerNumber(this.config, customerId), signal);
    return records.length === 0 ? { found: false } : { found: true, data: toCustomerPartial(records[0], this.config) };
  }

  async findByPhone(e164: string, signal: AbortSignal): Promise<string[]> {
    assertIdentifier(this.source, 'phone', e164);
    return customerNumbers(await this.client.search(accountsByPhone(this.config, e164, LOOKUP_LIMIT), signal), this.config);
  }

  async findByEmail(email: string, signal: AbortSignal): Promise<string[]> {
    assertIdentifier(this.source, 'email', email);
    return customerNumbers(await this.client.query(accountsByEmail(this.config, email, LOOKUP_LIMIT), signal), this.config);
  }
}
