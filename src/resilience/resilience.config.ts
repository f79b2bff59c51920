import { IsInt, Max, Min } from 'class-validator';

import { Env } from '../config/env.decorator.js';

/**
 * Policies applied to every call marked @Resilient, shared by every system. Each system's rate
 * limit is declared in its own configuration (e.g. SAP_RATE_LIMIT_PER_SEC in SapConfig).
 */
export class ResilienceConfig {
  @Env('RATE_LIMIT_MAX_WAIT_MS', { doc: 'Longest a single call waits for a rate-limit slot (never past the request deadline) before the source is marked rate_limited; a batch of callers waits up to its deadline' })
  @IsInt()
  @Min(0)
  @Max(10_000)
  rateLimitMaxWaitMs = 250;

  @Env('RATE_LIMIT_BURST_PERCENT', { doc: 'Share of a CRM\'s per-second budget that may be spent at once; the rest opens evenly through the second, so a burst never leaves callers waiting for the next second (100: all at once)' })
  @IsInt()
  @Min(1)
  @Max(100)
  rateLimitBurstPercent = 25;

  @Env('EXPECTED_REPLICAS', { doc: 'Replicas sharing the limits; without Redis each process allows limit ÷ this' })
  @IsInt()
  @Min(1)
  @Max(1000)
  expectedReplicas = 3;

  @Env('BREAKER_ERROR_PERCENT', { doc: 'A CRM\'s breaker opens when this share of calls fails over the window' })
  @IsInt()
  @Min(1)
  @Max(100)
  breakerErrorPercent = 50;

  @Env('BREAKER_WINDOW_MS', { doc: 'Rolling window the error share is measured over' })
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  breakerWindowMs = 60_000;

  @Env('BREAKER_MIN_CALLS', { doc: 'Calls needed in the window before the breaker may open' })
  @IsInt()
  @Min(1)
  @Max(100_000)
  breakerMinCalls = 10;

  @Env('BREAKER_OPEN_MS', { doc: 'How long an open breaker stays open before one trial call' })
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  breakerOpenMs = 30_000;

  @Env('RETRY_MAX_ATTEMPTS', { doc: 'Attempts per idempotent read (1 = no retry); retries only within the deadline' })
  @IsInt()
  @Min(1)
  @Max(10)
  retryMaxAttempts = 3;

  @Env('RETRY_BASE_MS', { doc: 'Base of the jittered exponential backoff between attempts' })
  @IsInt()
  @Min(10)
  @Max(10_000)
  retryBaseMs = 50;

  @Env('BULKHEAD_MAX_CONCURRENT', { doc: 'Most calls in flight to one CRM from one process' })
  @IsInt()
  @Min(1)
  @Max(10_000)
  bulkheadMaxConcurrent = 32;

  @Env('BULKHEAD_QUEUE', { doc: 'Calls that may queue for a bulkhead slot; beyond that a call is refused at once' })
  @IsInt()
  @Min(0)
  @Max(100_000)
  bulkheadQueue = 256;
}
