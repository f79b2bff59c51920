import { ArrayMaxSize, ArrayNotEmpty, IsBoolean, IsInt, Matches, Max, Min, ValidateBy, type ValidationArguments } from 'class-validator';
import { Env } from '../../config/env.decorator.js';

/** `*` alone, or queue ids (Genesys ids are UUIDs; anything that could not be a topic segment is refused). */
const QUEUE_ENTRY = /^(\*|[A-Za-z0-9-]{1,64})$/;

/** A number that must stay below a fraction of another setting of the same section. */
function below(property: keyof NotificationsConfig, fraction: number, what: string): PropertyDecorator {
  return ValidateBy({
    name: 'below',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => typeof value === 'number' && value < ((args?.object as Record<string, number>)[property] ?? 0) * fraction,
      defaultMessage: () => `$property must be less than ${what}`,
    },
  });
}

/**
 * Genesys Cloud queue notifications: the service follows queue conversations through the
 * Notifications API (one replica at a time, by a Redis lease) and pre-fetches each caller into the
 * cache before an agent answers, keeping active callers fresh (refresh-ahead).
 */
export class NotificationsConfig {
  @Env('GENESYS_NOTIFICATIONS_ENABLED', { doc: 'Follow queue conversations through the Genesys Notifications API and pre-fetch each caller before an agent answers (needs GENESYS_CLIENT_ID)' })
  @IsBoolean()
  enabled = false;

  @Env('GENESYS_NOTIFICATIONS_QUEUES', { doc: 'Queue ids to follow (comma-separated), or * for every queue of GET /api/v2/routing/queues, re-read every GENESYS_NOTIFICATIONS_QUEUE_REFRESH_MS', type: 'list' })
  @ArrayNotEmpty()
  @ArrayMaxSize(20_000)
  @Matches(QUEUE_ENTRY, { each: true, message: '$property must be * or queue ids (letters, digits and -)' })
  @ValidateBy({ name: 'starAlone', validator: { validate: (v: unknown) => !Array.isArray(v) || !v.includes('*') || v.length === 1, defaultMessage: () => '$property: * stands alone (every queue)' } })
  queues: string[] = ['*'];

  @Env('GENESYS_NOTIFICATIONS_QUEUE_REFRESH_MS', { doc: 'With *, how often the queue list is read again (new queues subscribed, removed ones dropped)' })
  @IsInt()
  @Min(10_000)
  @Max(86_400_000)
  queueRefreshMs = 600_000;

  @Env('GENESYS_NOTIFICATIONS_TOPICS_PER_CHANNEL', { doc: 'Topics per notification channel (Genesys allows 1,000 per WebSocket); more queues open more channels' })
  @IsInt()
  @Min(1)
  @Max(1000)
  topicsPerChannel = 1000;

  @Env('GENESYS_NOTIFICATIONS_PING_AFTER_MS', { doc: 'Send {"message":"ping"} when a channel has been quiet this long (Genesys sends a heartbeat every 30 s)' })
  @IsInt()
  @Min(100)
  @Max(600_000)
  pingAfterMs = 35_000;

  @Env('GENESYS_NOTIFICATIONS_PONG_TIMEOUT_MS', { doc: 'A channel that answers nothing this long after our ping is dropped and reconnected' })
  @IsInt()
  @Min(100)
  @Max(600_000)
  pongTimeoutMs = 10_000;

  @Env('GENESYS_NOTIFICATIONS_CHANNEL_RENEW_BEFORE_MS', { doc: 'Open a new channel this long before the current one reaches its 24 h end (the old one closes once the new one is live)' })
  @IsInt()
  @Min(1000)
  @Max(43_200_000)
  renewBeforeMs = 3_600_000;

  @Env('GENESYS_NOTIFICATIONS_RECONNECT_BASE_MS', { doc: 'First wait before reconnecting a lost channel (then exponential, jittered)' })
  @IsInt()
  @Min(10)
  @Max(60_000)
  reconnectBaseMs = 1000;

  @Env('GENESYS_NOTIFICATIONS_RECONNECT_MAX_MS', { doc: 'Longest wait between reconnection attempts' })
  @IsInt()
  @Min(100)
  @Max(600_000)
  reconnectMaxMs = 30_000;

  @Env('GENESYS_NOTIFICATIONS_LEASE_TTL_MS', { doc: 'The Redis lease that lets one replica hold the subscription: a replica that dies is replaced after at most this (plus one renew interval)' })
  @IsInt()
  @Min(500)
  @Max(300_000)
  leaseTtlMs = 5000;

  @Env('GENESYS_NOTIFICATIONS_LEASE_RENEW_MS', { doc: 'How often the holder renews the lease, and how often the others try to take it' })
  @IsInt()
  @Min(50)
  @Max(100_000)
  @below('leaseTtlMs', 0.5, 'half of GENESYS_NOTIFICATIONS_LEASE_TTL_MS')
  leaseRenewMs = 1000;

  @Env('PREFETCH_CONCURRENCY', { doc: 'Pre-fetches (and refreshes) running at once on the replica holding the subscription' })
  @IsInt()
  @Min(1)
  @Max(256)
  prefetchConcurrency = 4;

  @Env('PREFETCH_RESERVE_PERCENT', { doc: "Share of each system's rate limit (per window) pre-fetch never takes, kept for live look-ups; pre-fetch never waits for a slot" })
  @IsInt()
  @Min(0)
  @Max(90)
  reservePercent = 30;

  @Env('PREFETCH_RETRY_MS', { doc: 'A pre-fetch that got only part of a profile (no spare budget, a source down) is tried again after about this (±25 %), while the call lasts' })
  @IsInt()
  @Min(100)
  @Max(600_000)
  retryMs = 1000;

  @Env('PREFETCH_REFRESH_AHEAD_MS', { doc: "While a caller's conversation is active, refresh each part when less than this remains of its fresh time (at most half of CACHE_FRESH_TTL_MS); 0 = no refresh-ahead" })
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  refreshAheadMs = 10_000;

  @Env('PREFETCH_REFRESH_MAX_MS', { doc: 'Refresh-ahead stops this long after the call reached the queue, even if it is still going' })
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  refreshMaxMs = 1_800_000;

  @Env('PREFETCH_REFRESH_MAX_COUNT', { doc: 'Most refreshes (and retries) per conversation' })
  @IsInt()
  @Min(0)
  @Max(10_000)
  refreshMaxCount = 60;

  @Env('PREFETCH_MAX_CONVERSATIONS', { doc: 'Most active conversations followed at once (beyond: new ones are pre-fetched once, without refresh-ahead)' })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxConversations = 5000;

  /** Every queue of the organization (read from the routing API), rather than a fixed list. */
  get allQueues(): boolean {
    return this.queues.length === 1 && this.queues[0] === '*';
  }
}
