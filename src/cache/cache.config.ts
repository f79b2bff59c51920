import { IsBoolean, IsInt, IsString, Matches, Max, Min } from 'class-validator';

import { Env } from '../config/env.decorator.js';

export class CacheConfig {
  @Env('CACHE_FRESH_TTL_MS', { doc: 'How long a profile is served as fresh' })
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  freshTtlMs = 30_000;

  @Env('CACHE_REFRESH_AHEAD_PERCENT', {
    doc: 'A part read when less than this share (%) of its fresh time is left is fetched again in the background: the answer does not wait, and the next reads find it fresh. Background fetches take only spare rate-limit budget (never the last 30 % of a window) and ride along with live calls when they can; 0 = fetch only once stale',
  })
  @IsInt()
  @Min(0)
  @Max(100)
  refreshAheadPercent = 25;

  @Env('CACHE_STALE_TTL_MS', { doc: 'How long a copy is kept to be served as stale when a source fails' })
  @IsInt()
  @Min(0)
  @Max(7 * 86_400_000)
  staleTtlMs = 86_400_000;

  @Env('CACHE_LOOKUP_TTL_MS', { doc: 'How long a phone/e-mail → customer number look-up is remembered' })
  @IsInt()
  @Min(0)
  @Max(7 * 86_400_000)
  lookupTtlMs = 300_000;

  @Env('CACHE_OP_TIMEOUT_MS', { doc: 'Longest wait for one Redis operation; slower counts as a miss (fail open)' })
  @IsInt()
  @Min(5)
  @Max(5000)
  opTimeoutMs = 100;

  @Env('CACHE_KEY_PREFIX', { doc: 'Namespace of every key this service writes in Redis' })
  @IsString()
  @Matches(/^[a-z0-9:_-]{1,32}$/)
  keyPrefix = 'c360';

  @Env('NEAR_CACHE_ENABLED', { doc: 'Keep source parts in each process in front of Redis (a hit needs no Redis round trip; parts outlive a Redis outage)' })
  @IsBoolean()
  nearEnabled = true;

  @Env('NEAR_CACHE_MAX_ENTRIES', { doc: 'Most source parts the near cache of one process holds (least recently used go first)' })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  nearMaxEntries = 50_000;

  @Env('NEAR_CACHE_MAX_BYTES', { doc: 'Most bytes of source parts (as JSON) the near cache of one process holds' })
  @IsInt()
  @Min(1024)
  @Max(4 * 1024 ** 3)
  nearMaxBytes = 64 * 1024 * 1024;
}
