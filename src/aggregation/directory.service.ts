import { Inject, Injectable } from '@nestjs/common';
import { type CountryCode,parsePhoneNumberFromString } from 'libphonenumber-js';

import { SourceCache } from '../cache/source-cache.js';
import { CUSTOMER_DIRECTORY, type CustomerDirectory } from '../connectors/connector.js';
import { setDeadline } from '../resilience/deadline.js';
import { AggregationConfig } from './aggregation.config.js';

/** What a phone number may be written with: digits, one leading +, spaces and ( ) . - / separators. */
const PHONE_NOTATION = /^\+?[\d\s().\-/]{3,32}$/;

/**
 * A phone number in any common notation → E.164, or undefined when it is not a valid number.
 * The notation is checked first: libphonenumber would otherwise extract a number from text
 * such as "4155550100^ORactive=true", and such input must be refused, not repaired.
 */
export function toE164(input: string, defaultRegion: string): string | undefined {
  if (!PHONE_NOTATION.test(input)) return undefined;
  const parsed = parsePhoneNumberFromString(input, defaultRegion as CountryCode);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** Resolves contact details to customer numbers through the CRM directory, with the result cached. */
@Injectable()
export class DirectoryService {
  constructor(
    @Inject(CUSTOMER_DIRECTORY) private readonly directory: CustomerDirectory,
    private readonly cache: SourceCache,
    private readonly config: AggregationConfig,
  ) {}

  normalizePhone(input: string): string | undefined {
    return toE164(input, this.config.defaultPhoneRegion);
  }

  async byPhone(e164: string, deadlineAt: number): Promise<string[]> {
    return this.lookup('phone', e164, deadlineAt, (signal) => this.directory.findByPhone(e164, signal));
  }

  async byEmail(email: string, deadlineAt: number): Promise<string[]> {
    return this.lookup('email', email.toLowerCase(), deadlineAt, (signal) => this.directory.findByEmail(email, signal));
  }

  private async lookup(kind: 'phone' | 'email', value: string, deadlineAt: number, find: (signal: AbortSignal) => Promise<string[]>): Promise<string[]> {
    const cached = await this.cache.getLookup(kind, value);
    if (cached) return cached;
    const signal = setDeadline(AbortSignal.timeout(Math.max(1, deadlineAt - Date.now())), deadlineAt);
    const ids = await find(signal);
    await this.cache.putLookup(kind, value, ids);
    return ids;
  }
}
