import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { bounded } from './bounded.js';
import { CacheConfig } from './cache.config.js';
import { REDIS, type Redis } from './redis.provider.js';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A held lock; release it once the result is stored. */
export interface Lease {
  /** Releases the lock and tells waiting replicas how the call ended ('ok' or an error kind). */
  release(outcome: string): Promise<void>;
}

/**
 * Single-flight across replicas: before calling a CRM for a customer, a replica takes a short
 * Redis lock (`SET key token NX PX`); the others wait for the holder's "landed" message on a
 * pub/sub channel (no polling) and then read the cache. Release is compare-and-delete, so an
 * expired holder can never delete a newer holder's lock. Without Redis, or when Redis fails,
 * every replica just proceeds (fail open: at worst one call per replica).
 */
@Injectable()
export class ReplicaLock implements OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaLock.name);
  private subscriber: Redis | undefined;
  private subscribing: Promise<Redis | undefined> | undefined;
  private readonly waiters = new Map<string, Set<(outcome: string) => void>>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly config: CacheConfig,
  ) {}

  private lockKey(name: string): string {
    return `${this.config.keyPrefix}:lock:${name}`;
  }

  private channel(name: string): string {
    return `${this.config.keyPrefix}:landed:${name}`;
  }

  /** Tries to take the lock for `ttlMs`; undefined when another replica holds it. Fails open. */
  async acquire(name: string, ttlMs: number): Promise<Lease | 'held-elsewhere'> {
    const redis = this.redis;
    const noop: Lease = { release: async () => undefined };
    if (!redis?.isReady) return noop;
    const token = randomBytes(12).toString('base64url');
    try {
      const ok = await bounded(redis.set(this.lockKey(name), token, { NX: true, PX: Math.max(1, Math.ceil(ttlMs)) }), this.config.opTimeoutMs);
      if (ok !== 'OK') return 'held-elsewhere';
    } catch (err) {
      this.logger.warn({ msg: 'lock unavailable; proceeding without it', err: (err as Error).message });
      return noop;
    }
    return {
      release: async (outcome: string) => {
        try {
          await redis.eval(RELEASE, { keys: [this.lockKey(name)], arguments: [token] });
          await redis.publish(this.channel(name), outcome);
        } catch {
          /* the lock expires by itself */
        }
      },
    };
  }

  /**
   * Resolves when the holder announces that the result landed, or when `signal` aborts
   * (the request's deadline). Subscribe first, then the caller re-reads the cache, so a
   * result that landed in between is not missed.
   */
  async subscribe(name: string): Promise<{ landed: Promise<string>; cancel: () => void }> {
    const subscriber = await this.ensureSubscriber();
    let resolve!: (outcome: string) => void;
    const landed = new Promise<string>((r) => (resolve = r));
    if (!subscriber) return { landed: Promise.resolve('unknown'), cancel: () => undefined };
    const channel = this.channel(name);
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
      try {
        await subscriber.subscribe(channel, (message: string) => this.wake(channel, message));
      } catch {
        resolve('unknown');
      }
    }
    set.add(resolve);
    const cancel = () => {
      const current = this.waiters.get(channel);
      current?.delete(resolve);
      if (current && current.size === 0) {
        this.waiters.delete(channel);
        subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
    return { landed, cancel };
  }

  private wake(channel: string, outcome: string): void {
    const set = this.waiters.get(channel);
    if (!set) return;
    for (const resolve of set) resolve(outcome);
  }

  private ensureSubscriber(): Promise<Redis | undefined> {
    if (!this.redis) return Promise.resolve(undefined);
    if (!this.subscribing) {
      const sub = this.redis.duplicate() as Redis;
      sub.on('error', () => undefined);
      this.subscriber = sub;
      this.subscribing = sub.connect().then(
        () => sub,
        () => {
          this.subscribing = undefined;
          return undefined;
        },
      );
    }
    return this.subscribing;
  }

  async onApplicationShutdown(): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return;
    if (sub.isOpen) sub.destroy();
  }
}
