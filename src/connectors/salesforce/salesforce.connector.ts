import { Injectable } from '@nestjs/common';
import { type CustomerConnector, type CustomerDirectory, type FetchResult, NOT_FOUND } from '../connector.js';
import { splitToFit, targetBytes } from '../batching.js';
import { assertIdentifier } from '../identifiers.js';
import { SalesforceClient } from './salesforce.client.js';
import { SalesforceConfig } from './salesforce.config.js';
import { customerNumbers, str, toCustomerPartial } from './salesforce.mapper.js';
import { accountByCustomerNumber, accountsByCustomerNumbers, accountsByEmail, accountsByPhone } from './salesforce.query.js';

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

  get batchMaxCustomers(): number {
    return this.config.batchMaxCustomers;
  }

  /** Many customers' accounts by one SOQL `IN` list per run that fits the URI bound; the first account per number wins, as with one. */
  async fetchMany(customerIds: readonly string[], signal: AbortSignal): Promise<Map<string, FetchResult | Error>> {
    for (const id of customerIds) assertIdentifier(this.source, 'customer number', id);
    const field = this.config.customerNumberField;
    const fits = (run: readonly string[]) => targetBytes(this.client.queryTarget(accountsByCustomerNumbers(this.config, run))) <= this.config.maxUrlBytes;
    const results = new Map<string, FetchResult | Error>();
    await Promise.all(
      splitToFit(customerIds, fits).map(async (run) => {
        const wanted = new Set(run);
        for (const record of await this.client.query(accountsByCustomerNumbers(this.config, run), signal)) {
          const number = str(record[field]);
          if (number !== undefined && wanted.has(number) && !results.has(number)) results.set(number, { found: true, data: toCustomerPartial(record, this.config) });
        }
      }),
    );
    for (const id of customerIds) if (!results.has(id)) results.set(id, NOT_FOUND);
    return results;
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
