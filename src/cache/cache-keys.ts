import { customerKey } from '../redis/redis-keys.js';

/**
 * Bumped whenever the cached shape or the key layout changes, so a new release never reads old
 * entries (v3: every key of a customer carries the customer's hash tag).
 */
export const SCHEMA_VERSION = 'v3';

/** Remembered look-ups: phone or e-mail → customer numbers; a Genesys conversation → its caller's number. */
export type LookupKind = 'phone' | 'email' | 'conversation';

/**
 * The names of everything the cache keeps in Redis, under CACHE_KEY_PREFIX. Everything one
 * customer's entry needs — its parts, its generation, the single-flight lock of each source and
 * that lock's "landed" channel — carries the customer's hash tag (`<prefix>:{<customerId>}:…`), so
 * on a Cluster it all lives in one slot: the parts and the generation are read in one MGET, an
 * invalidation touches one node, and the landed message travels on the shard that holds the lock.
 *
 *   part         <prefix>:{<customerId>}:v3:part:<source>
 *   generation   <prefix>:{<customerId>}:v3:gen
 *   lock         <prefix>:{<customerId>}:lock:<source>
 *   landed       <prefix>:{<customerId>}:landed:<source>         (channel)
 *   look-up      <prefix>:v3:<phone|email|conversation>:<value>   (one key, any slot)
 *   coherence    <prefix>:near                                     (channel, every replica)
 */
export class CacheKeys {
  constructor(private readonly prefix: string) {}

  /** One source's cached part of a customer. */
  part(customerId: string, source: string): string {
    return customerKey(this.prefix, customerId, SCHEMA_VERSION, 'part', source);
  }

  /** The customer's cache generation (a new one at each invalidation). */
  generation(customerId: string): string {
    return customerKey(this.prefix, customerId, SCHEMA_VERSION, 'gen');
  }

  /** The single-flight lock of one source's call for a customer. */
  lock(customerId: string, source: string): string {
    return customerKey(this.prefix, customerId, 'lock', source);
  }

  /** The channel on which the lock's holder says that its result landed. */
  landed(customerId: string, source: string): string {
    return customerKey(this.prefix, customerId, 'landed', source);
  }

  /** A remembered look-up (case-insensitive). */
  lookup(kind: LookupKind, value: string): string {
    return `${this.prefix}:${SCHEMA_VERSION}:${kind}:${value.toLowerCase()}`;
  }

  /** The coherence channel of the near caches (see NearCache). */
  near(): string {
    return `${this.prefix}:near`;
  }
}
