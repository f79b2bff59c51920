import { randomBytes } from 'node:crypto';

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

import { Metrics } from '../observability/metrics.js';
import { CacheConfig } from './cache.config.js';
import { ReplicaLock } from './replica-lock.js';
import type { CachedSource, Generation } from './source-cache.js';

/** A part kept in this process, with what it was known under. */
export interface NearEntry {
  entry: CachedSource;
  /** The customer's Redis generation when the part was read or written (null: Redis could not be read then). */
  generation: Generation;
  /**
   * The coherence link it was kept under: after a break in the subscription (messages may have been
   * missed) a part is served only once Redis has confirmed it (see `confirmed`).
   */
  link: number;
}

/**
 * What one replica tells the others: a customer invalidated (every part), or newer parts stored.
 * Parts stored in one turn of the event loop (a batch landing for hundreds of customers) go out as
 * one message ('ws'), not one per part.
 */
type Change =
  /** Origin replica (its own messages are ignored: it applied them already); 'i': the customer's `s` sources invalidated. */
  | { o: string; k: 'i'; c: string; s: string[] }
  /** 'w' (one part; still understood, from a replica of the previous release): `s` of customer `c` stored, fetched at `at`. */
  | { o: string; k: 'w'; c: string; s: string[]; at: number }
  /** 'ws': parts stored, each [customer, source, fetchedAt] (older copies elsewhere are dropped). */
  | { o: string; k: 'ws'; w: Array<[string, string, number]> };

/** Most phone and e-mail look-ups one process keeps (least recently used go first). */
const NEAR_LOOKUPS_MAX = 10_000;

/** Most parts one 'ws' message carries (a bigger landing goes out as several). */
const WRITES_PER_MESSAGE = 500;

/**
 * The near tier: source parts kept in this process in front of Redis, bounded by entries and by
 * bytes (least recently used go first). Freshness is judged from each part's `fetchedAt`, exactly
 * as for Redis entries, so a fresh hit here needs no Redis round trip, and while Redis is away the
 * parts kept here are still served fresh, then stale within the grace period.
 *
 * Coherent across replicas through a Redis pub/sub channel (ReplicaLock.broadcast): every
 * invalidation and every stored part is announced; the others drop what they keep of it, so their
 * next read goes to Redis. A local invalidation counter per customer (the epoch) keeps a call that
 * started before an invalidation from putting its answer back here.
 *
 * The race that remains: a message in flight. Between a change on one replica and the message
 * reaching another (about a Redis round trip), the other may still serve its copy as fresh. A break
 * in the subscription (messages lost) is covered: parts kept before it are confirmed against
 * Redis once before they are served again.
 */
@Injectable()
export class NearCache implements OnModuleInit {
  private readonly entries: LRUCache<string, NearEntry> | undefined;
  /** Phone and e-mail look-ups, each with the moment its Redis copy expires (see `keepLookup`). */
  private readonly lookups: LRUCache<string, { ids: string[]; expires: number }> | undefined;
  /** Per customer, the local invalidation count at its last invalidation (0: none remembered). */
  private readonly epochs: LRUCache<string, number>;
  private epochSeq = 0;
  /** Per customer, the generation of the latest invalidation this replica applied in Redis. */
  private readonly own: LRUCache<string, string>;
  private link = 0;
  private readonly origin = randomBytes(9).toString('base64url');

  constructor(
    private readonly config: CacheConfig,
    private readonly lock: ReplicaLock,
    private readonly metrics: Metrics,
  ) {
    if (config.nearEnabled) {
      this.entries = new LRUCache<string, NearEntry>({
        max: config.nearMaxEntries,
        maxSize: config.nearMaxBytes,
        sizeCalculation: (value, key) => Math.max(1, key.length + sizeOf(value.entry)),
        disposeAfter: (_value, _key, reason) => {
          if (reason === 'evict') this.metrics.nearEvictions.inc();
          this.gauge();
        },
      });
    }
    this.lookups = config.nearEnabled ? new LRUCache({ max: NEAR_LOOKUPS_MAX }) : undefined;
    this.epochs = new LRUCache<string, number>({ max: Math.max(1000, config.nearMaxEntries) });
    this.own = new LRUCache<string, string>({ max: Math.max(1000, config.nearMaxEntries) });
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  onModuleInit(): void {
    if (!this.entries) return;
    this.lock.listen(
      (message) => this.receive(message),
      () => this.link++,
    );
  }

  /** The customer's local epoch now: a part may be kept only if the epoch has not moved since its call began. */
  epoch(customerId: string): number {
    return this.epochs.get(customerId) ?? 0;
  }

  /** The kept part, if any and still inside fresh time + grace at `now`. */
  get(source: string, customerId: string, now: number): NearEntry | undefined {
    const key = keyOf(source, customerId);
    const kept = this.entries?.get(key);
    if (!kept) return undefined;
    if (now - kept.entry.fetchedAt >= this.config.freshTtlMs + this.config.staleTtlMs) {
      this.entries?.delete(key);
      return undefined;
    }
    return kept;
  }

  /** True when the part was kept under the current link (no message can have been missed since). */
  linked(kept: NearEntry): boolean {
    return kept.link === this.link;
  }

  /**
   * Keeps a part unless the customer was invalidated here since `epoch` was taken, or a newer part
   * is kept already. Returns whether it was kept.
   */
  set(source: string, customerId: string, entry: CachedSource, generation: Generation, epoch: number): boolean {
    if (!this.entries || this.epoch(customerId) !== epoch) return false;
    const key = keyOf(source, customerId);
    const kept = this.entries.get(key, { updateAgeOnGet: false });
    if (kept && kept.entry.fetchedAt > entry.fetchedAt && this.linked(kept)) return false;
    this.entries.set(key, { entry, generation, link: this.link });
    this.gauge();
    return true;
  }

  /** Drops a part if it is still the one given (a write that lost to an invalidation elsewhere). */
  drop(source: string, customerId: string, entry: CachedSource): void {
    const key = keyOf(source, customerId);
    if (this.entries?.get(key, { updateAgeOnGet: false })?.entry === entry) this.entries.delete(key);
  }

  /** A customer changed here: drops its parts and moves its epoch (tell the others once Redis has it: `announceInvalidation`). */
  invalidate(customerId: string, sources: string[]): void {
    if (!this.entries) return;
    this.forget(customerId, sources);
    this.metrics.nearInvalidations.inc({ cause: 'invalidation', origin: 'local' });
  }

  /** Tells the other replicas that a customer was invalidated in Redis: they drop their parts and re-read. */
  announceInvalidation(customerId: string, sources: string[]): Promise<void> {
    if (!this.entries) return Promise.resolve();
    return this.lock.broadcast(JSON.stringify({ o: this.origin, k: 'i', c: customerId, s: sources } satisfies Change));
  }

  /**
   * Tells the other replicas that a part was stored in Redis: they drop older copies. Parts stored
   * in the same turn share one message (sent on the next turn); resolves once it is published.
   */
  announceWrite(source: string, customerId: string, entry: CachedSource): Promise<void> {
    if (!this.entries) return Promise.resolve();
    this.stored.push([customerId, source, entry.fetchedAt]);
    this.announcing ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        const stored = this.stored;
        this.stored = [];
        this.announcing = undefined;
        const messages: Promise<void>[] = [];
        for (let i = 0; i < stored.length; i += WRITES_PER_MESSAGE) {
          messages.push(this.lock.broadcast(JSON.stringify({ o: this.origin, k: 'ws', w: stored.slice(i, i + WRITES_PER_MESSAGE) } satisfies Change)));
        }
        void Promise.all(messages).then(() => resolve());
      }),
    );
    return this.announcing;
  }

  /** Parts stored in this turn, announced together on the next. */
  private stored: Array<[string, string, number]> = [];
  private announcing: Promise<void> | undefined;

  /** This replica made the customer's latest invalidation, under `generation`. */
  ownInvalidation(customerId: string, generation: string): void {
    if (this.entries) this.own.set(customerId, generation);
  }

  isOwnInvalidation(customerId: string, generation: Generation): boolean {
    return generation !== null && this.own.get(customerId) === generation;
  }

  /** Everything forgotten (tests that reset the world). */
  /**
   * A phone or e-mail look-up kept here (see `keepLookup`), while its Redis copy has not expired.
   * Counted as a cache hit of its kind.
   */
  lookup(kind: string, value: string): string[] | undefined {
    const key = `${kind}\u0000${value}`;
    const kept = this.lookups?.get(key);
    if (kept === undefined) return undefined;
    if (kept.expires <= Date.now()) {
      this.lookups?.delete(key);
      return undefined;
    }
    this.metrics.cacheLookup(kind, 'hit');
    return kept.ids;
  }

  /**
   * Keeps a look-up until `expires`, the moment its Redis copy expires. Look-ups are never changed
   * or deleted in Redis before then (a new one is only written after a miss), so no message is
   * needed between replicas: a kept copy is never older than the Redis one. It outlives a Redis
   * outage like the parts do.
   */
  keepLookup(kind: string, value: string, ids: string[], expires: number | undefined): void {
    if (expires !== undefined && expires > Date.now()) this.lookups?.set(`${kind}\u0000${value}`, { ids, expires });
  }

  clear(): void {
    this.lookups?.clear();
    this.entries?.clear();
    this.epochs.clear();
    this.own.clear();
    this.gauge();
  }

  /** An invalidation broadcast by another replica (its own were applied when made). */
  invalidatedElsewhere(customerId: string, sources: string[]): void {
    this.forget(customerId, sources);
    this.metrics.nearInvalidations.inc({ cause: 'invalidation', origin: 'replica' });
  }

  private receive(message: string): void {
    let change: Change;
    try {
      change = JSON.parse(message) as Change;
    } catch {
      return;
    }
    if (typeof change !== 'object' || change === null || change.o === this.origin) return;
    if (change.k === 'ws' && Array.isArray(change.w)) {
      for (const written of change.w) if (Array.isArray(written)) this.storedElsewhere(written[0], written[1], written[2]);
      return;
    }
    if ((change.k !== 'i' && change.k !== 'w') || typeof change.c !== 'string' || !Array.isArray(change.s)) return;
    if (change.k === 'i') {
      this.invalidatedElsewhere(change.c, change.s);
      this.onInvalidated?.(change.c, change.s);
      return;
    }
    for (const source of change.s) this.storedElsewhere(change.c, source, change.at);
  }

  /** Another replica stored a part fetched at `at`: an older copy kept here goes. */
  private storedElsewhere(customerId: unknown, source: unknown, at: unknown): void {
    if (typeof customerId !== 'string' || typeof source !== 'string' || typeof at !== 'number') return;
    const key = keyOf(source, customerId);
    const kept = this.entries?.get(key, { updateAgeOnGet: false });
    if (kept && kept.entry.fetchedAt < at) {
      this.entries?.delete(key);
      this.metrics.nearInvalidations.inc({ cause: 'write', origin: 'replica' });
    }
  }

  /** Set by the cache policy: an invalidation from another replica also unlists this process's running calls. */
  onInvalidated: ((customerId: string, sources: string[]) => void) | undefined;

  private forget(customerId: string, sources: string[]): void {
    this.epochs.set(customerId, ++this.epochSeq);
    for (const source of sources) this.entries?.delete(keyOf(source, customerId));
    this.gauge();
  }

  private gauge(): void {
    if (!this.entries) return;
    this.metrics.nearEntries.set(this.entries.size);
    this.metrics.nearBytes.set(this.entries.calculatedSize);
  }
}

function keyOf(source: string, customerId: string): string {
  return `${source}\u0000${customerId}`;
}

/** Bytes of a part as JSON (what it costs to keep, near enough). */
function sizeOf(entry: CachedSource): number {
  return Buffer.byteLength(JSON.stringify(entry));
}
