import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

import { Env } from '../config/env.decorator.js';

export class AggregationConfig {
  @Env('AGGREGATION_DEADLINE_MS', { doc: 'Overall deadline for one Customer 360 answer; sources not done by then are marked timeout' })
  @IsInt()
  @Min(50)
  @Max(30_000)
  deadlineMs = 800;

  @Env('AGGREGATION_LATE_COMPLETION_MS', { doc: 'How long a source call that missed the deadline may finish in the background to warm the cache (0 = cancel at the deadline)' })
  @IsInt()
  @Min(0)
  @Max(60_000)
  lateCompletionMs = 5000;

  @Env('BATCH_CONCURRENCY', { doc: 'Batched calls to one CRM at once per process; look-ups arriving while all are busy (or while one waits for a rate-limit slot) join the next call' })
  @IsInt()
  @Min(1)
  @Max(64)
  batchConcurrency = 4;

  @Env('BATCH_BUSY_LOOP_PERCENT', { doc: 'Event-loop utilization (%) at or above which this process makes one batched call per CRM at a time: short of CPU, look-ups join the next call rather than starting more calls (fewer, larger calls cost less), waiting for the call out at most a quarter of AGGREGATION_DEADLINE_MS; below it, up to BATCH_CONCURRENCY. 100 = always BATCH_CONCURRENCY' })
  @IsInt()
  @Min(0)
  @Max(100)
  batchBusyLoopPercent = 90;

  @Env('DEFAULT_PHONE_REGION', { doc: 'Region (ISO 3166 alpha-2) for phone numbers given without a country code' })
  @IsString()
  @Matches(/^[A-Z]{2}$/)
  defaultPhoneRegion = 'US';
}
