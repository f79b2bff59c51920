import { EventEmitter } from 'node:events';

import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';

import { CacheConfig } from '../../cache/cache.config.js';
import { REDIS, type Redis } from '../../cache/redis.provider.js';
import { GenesysConfig } from '../../config/genesys.config.js';
import { taggedKey } from '../../redis/redis-keys.js';
import { isUpstreamError } from '../../upstream/upstream-error.js';
import { NotificationsConfig } from './notifications.config.js';
import { NotificationMetrics } from './notifications.metrics.js';
import { NotificationsApiClient } from './notifications-api.client.js';
import { Prefetcher } from './prefetcher.js';
import { queueTopic, readQueueEvent } from './queue-event.js';
import { QueueSubscriptions } from './queue-subscriptions.js';
import { type LeaseRedis, SubscriptionLease } from './subscription-lease.js';

/** A previous holder's note older than this says nothing about a gap. */
const NOTE_MAX_AGE_MS = 3_600_000;

/** What the holder notes in Redis with each lease renewal, for the next holder's missed-event estimate. */
interface HolderNote {
  at: number;
  eventsPerSecond: number;
}

/**
 * Follows Genesys queue conversations and hands each event to the pre-fetch — on one replica at a
 * time: the one holding the subscription lease (Redis; without Redis, this process). When it takes
 * the lease it reads the queues (GENESYS_NOTIFICATIONS_QUEUES, or every queue of the organization,
 * re-read every GENESYS_NOTIFICATIONS_QUEUE_REFRESH_MS) and subscribes to their conversation topics;
 * when it loses the lease or shuts down it closes every channel first, then releases the lease so
 * another replica takes over at once. An event is acted on only while the lease is known to be
 * held, so two replicas never handle events at the same moment.
 */
@Injectable()
export class NotificationsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('GenesysNotifications');
  /**
   * What happens, for tests and the bench: `live` (every channel connected), `message` (kind),
   * `connect` (reason), `gap` ({ms, missed}), `lease` ('acquired' | 'released').
   */
  readonly events = new EventEmitter();
  private lease: SubscriptionLease | undefined;
  /** The lease's own Redis connection: the shared one may be closed by others early in shutdown, before the lease is released. */
  private leaseRedis: Redis | undefined;
  private subscriptions: QueueSubscriptions | undefined;
  private queueTimer: NodeJS.Timeout | undefined;
  private queueBackoff: IBackoff<unknown> | undefined;
  /** Rate seen by the last subscription of this process (kept across a lost lease, for the note). */
  private lastRate = 0;

  constructor(
    private readonly config: NotificationsConfig,
    private readonly genesys: GenesysConfig,
    private readonly cacheConfig: CacheConfig,
    private readonly api: NotificationsApiClient,
    private readonly prefetcher: Prefetcher,
    private readonly metrics: NotificationMetrics,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Whether this replica follows the queues now. */
  get holder(): boolean {
    return this.lease?.held() ?? false;
  }

  status(): { holder: boolean; channels: number; connected: number; topics: number } {
    return { holder: this.holder, ...(this.subscriptions?.status ?? { channels: 0, connected: 0, topics: 0 }) };
  }

  /** Resolves once this replica holds the lease and every channel is connected. */
  whenLive(): Promise<void> {
    const s = this.subscriptions;
    if (s && s.status.channels > 0 && s.status.connected === s.status.channels) return Promise.resolve();
    return new Promise((resolve) => this.events.once('live', () => resolve()));
  }

  onApplicationBootstrap(): void {
    if (!this.config.enabled) return;
    if (!this.api.enabled) {
      this.logger.warn({ msg: 'GENESYS_NOTIFICATIONS_ENABLED is set, but no Genesys OAuth client is (GENESYS_CLIENT_ID): queue notifications and the pre-fetch stay off' });
      return;
    }
    if (this.redis) {
      const own = this.redis.duplicate() as Redis;
      own.on('error', () => undefined); // reported by the lease (and the shared client)
      own.connect().catch(() => undefined); // reconnects by itself, as the shared client does
      this.leaseRedis = own;
    }
    this.lease = new SubscriptionLease((this.leaseRedis ?? null) as unknown as LeaseRedis | null, {
      // one hash slot for the lease and its note (a Redis Cluster runs the scripts on one node); under
      // the key prefix, so the ACL rule `~c360:*` covers it
      key: taggedKey(this.cacheConfig.keyPrefix, 'notifications', 'lease'),
      ttlMs: this.config.leaseTtlMs,
      renewMs: this.config.leaseRenewMs,
      logger: this.logger,
    });
    this.lease.start({
      acquired: (note) => this.acquired(note),
      lost: () => this.lost(),
      note: () => JSON.stringify({ at: Date.now(), eventsPerSecond: this.subscriptions?.eventsPerSecond() ?? this.lastRate } satisfies HolderNote),
    });
  }

  /** First thing on shutdown: channels closed, then the lease released, so another replica takes over at once. */
  async onModuleDestroy(): Promise<void> {
    await this.lease?.stop();
    const own = this.leaseRedis;
    if (own?.isOpen) await (own.isReady ? own.close() : Promise.resolve(own.destroy())).catch(() => undefined);
  }

  private acquired(note: string): void {
    this.metrics.leaseHeld.set(1);
    this.metrics.leaseChanges.inc({ to: 'acquired' });
    this.events.emit('lease', 'acquired');
    const subscriptions = new QueueSubscriptions(
      this.api,
      {
        topicsPerChannel: this.config.topicsPerChannel,
        pingAfterMs: this.config.pingAfterMs,
        pongTimeoutMs: this.config.pongTimeoutMs,
        renewBeforeMs: this.config.renewBeforeMs,
        reconnectBaseMs: this.config.reconnectBaseMs,
        reconnectMaxMs: this.config.reconnectMaxMs,
        connectTimeoutMs: this.genesys.timeoutMs,
      },
      {
        onEvent: (topicName, eventBody) => this.event(topicName, eventBody),
        onMessage: (kind) => {
          this.metrics.events.inc({ kind });
          this.events.emit('message', kind);
        },
        onConnect: (reason) => {
          this.metrics.connects.inc({ reason });
          this.events.emit('connect', reason);
        },
        onGap: (ms, missed) => this.gap(ms, missed),
        onShape: (channels, topics) => {
          this.metrics.channels.set(channels);
          this.metrics.topics.set(topics);
        },
      },
      this.logger,
    );
    this.subscriptions = subscriptions;
    subscriptions.on('live', () => this.events.emit('live'));
    const previous = parseNote(note);
    if (previous) {
      // the time no replica followed the queues: from the last holder's last word to our first live channel
      void subscriptions.whenLive().then(() => {
        if (this.subscriptions !== subscriptions) return;
        const gapMs = Math.max(0, Date.now() - previous.at);
        const missed = Math.round((gapMs / 1000) * previous.eventsPerSecond);
        this.gap(gapMs, missed);
        this.logger.warn({ msg: 'took over the Genesys notification subscription; events published in between are not replayed by Genesys', gapMs, missedEventsEstimate: missed });
      });
    }
    this.queueBackoff = undefined;
    void this.refreshQueues();
  }

  private lost(): void {
    this.metrics.leaseHeld.set(0);
    this.metrics.leaseChanges.inc({ to: 'released' });
    clearTimeout(this.queueTimer);
    this.queueTimer = undefined;
    if (this.subscriptions) this.lastRate = this.subscriptions.eventsPerSecond() || this.lastRate;
    this.subscriptions?.stop();
    this.subscriptions = undefined;
    this.prefetcher.clear();
    this.events.emit('lease', 'released');
  }

  private gap(ms: number, missed: number): void {
    this.metrics.disconnectedSeconds.inc(ms / 1000);
    if (missed > 0) this.metrics.missedEvents.inc(missed);
    this.events.emit('gap', { ms, missed });
  }

  private event(topicName: string, eventBody: unknown): void {
    // the lease may have lapsed since the socket received this (Redis unreachable): another replica may hold it
    if (!this.holder) {
      this.metrics.events.inc({ kind: 'not_holder' });
      return;
    }
    const event = readQueueEvent(topicName, eventBody);
    if (event) this.prefetcher.handle(event);
  }

  /** The queues to follow, subscribed; with `*` read again later (sooner, with backoff, after a failure). */
  private async refreshQueues(): Promise<void> {
    const subscriptions = this.subscriptions;
    if (!subscriptions) return;
    let next: number;
    try {
      const ids = this.config.allQueues ? await this.api.allQueueIds() : this.config.queues;
      if (this.subscriptions !== subscriptions) return;
      if (ids.length === 0) this.logger.warn({ msg: 'no queue to follow: the organization has none, or the OAuth client may not see them (routing:queue:view)' });
      subscriptions.setTopics(ids.map(queueTopic));
      this.queueBackoff = undefined;
      if (!this.config.allQueues) return;
      next = this.config.queueRefreshMs;
    } catch (err) {
      if (this.subscriptions !== subscriptions) return;
      this.queueBackoff = this.queueBackoff ? this.queueBackoff.next(undefined) : new ExponentialBackoff({ initialDelay: this.config.reconnectBaseMs, maxDelay: this.config.reconnectMaxMs }).next();
      next = this.queueBackoff.duration;
      this.logger.warn({ msg: 'the queue list could not be read from Genesys; trying again', inMs: next, err: isUpstreamError(err) ? `${err.kind}: ${err.message}` : (err as Error).message });
    }
    this.queueTimer = setTimeout(() => void this.refreshQueues(), next);
    this.queueTimer.unref();
  }
}

function parseNote(note: string): HolderNote | undefined {
  if (note === '') return undefined;
  try {
    const value = JSON.parse(note) as Partial<HolderNote>;
    if (typeof value.at !== 'number' || typeof value.eventsPerSecond !== 'number') return undefined;
    if (Date.now() - value.at > NOTE_MAX_AGE_MS || value.at > Date.now()) return undefined;
    return { at: value.at, eventsPerSecond: Math.max(0, value.eventsPerSecond) };
  } catch {
    return undefined;
  }
}
