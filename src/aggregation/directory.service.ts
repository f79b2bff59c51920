import { Inject, Injectable } from '@nestjs/common';
import { type CountryCode,parsePhoneNumberFromString } from 'libphonenumber-js';
import { LRUCache } from 'lru-cache';

import { NearCache } from '../cache/near-cache.js';
import { SourceCache } from '../cache/source-cache.js';
import { CUSTOMER_DIRECTORY, type CustomerDirectory } from '../connectors/connector.js';
import type { Deadline } from '../upstream/deadline.js';
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

/** Phone notations remembered with their E.164 form ('' = not a valid number). */
const NORMALIZED_MAX = 10_000;

/** Resolves contact details to customer numbers through the CRM directory, with the result cached. */
@Injectable()
export class DirectoryService {
  /**
   * libphonenumber's parse and validation cost more CPU than the rest of a cached screen pop, and
   * a caller's number comes in the same notation call after call: worked out once per notation.
   */
  private readonly normalized = new LRUCache<string, string>({ max: NORMALIZED_MAX });

  constructor(
    @Inject(CUSTOMER_DIRECTORY) private readonly directory: CustomerDirectory,
    private readonly cache: SourceCache,
    private readonly near: NearCache,
    private readonly config: AggregationConfig,
  ) {}

  normalizePhone(input: string): string | undefined {
    let e164 = this.normalized.get(input);
    if (e164 === undefined) this.normalized.set(input, (e164 = toE164(input, this.config.defaultPhoneRegion) ?? ''));
    return e164 === '' ? undefined : e164;
  }

  /** Customer numbers with this phone number (E.164); the CRM call is cut at the deadline. */
  async byPhone(e164: string, deadline: Deadline): Promise<string[]> {
    return this.lookup('phone', e164, () => this.directory.findByPhone(e164, deadline.signal));
  }

  async byEmail(email: string, deadline: Deadline): Promise<string[]> {
    return this.lookup('email', email.toLowerCase(), () => this.directory.findByEmail(email, deadline.signal));
  }

  /** Kept in this process first (until the Redis copy expires: see NearCache.keepLookup), then Redis, then the CRM. */
  private async lookup(kind: 'phone' | 'email', value: string, find: () => Promise<string[]>): Promise<string[]> {
    const kept = this.near.lookup(kind, value);
    if (kept) return kept;
    const cached = await this.cache.readLookup(kind, value);
    if (cached) {
      this.near.keepLookup(kind, value, cached.ids, cached.expires);
      return cached.ids;
    }
    const ids = await find();
    this.near.keepLookup(kind, value, ids, await this.cache.putLookup(kind, value, ids));
    return ids;
  }
}
