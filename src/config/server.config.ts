import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { Env } from './env.decorator.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const RUN_MODES = ['production', 'development', 'test', 'sandbox'] as const;
export type RunMode = (typeof RUN_MODES)[number];

export class ServerConfig {
  @Env('NODE_ENV', { doc: 'Run mode: production, development, test or sandbox' })
  @IsIn(RUN_MODES)
  mode: RunMode = 'development';

  @Env('PORT', { doc: 'HTTP port the service listens on' })
  @IsInt()
  @Min(0)
  @Max(65535)
  port = 3000;

  @Env('HOST', { doc: 'Interface to bind (0.0.0.0 in a container)' })
  @IsString()
  @MinLength(1)
  host = '0.0.0.0';

  @Env('LOG_LEVEL', { doc: 'fatal, error, warn, info, debug, trace or silent' })
  @IsIn(LOG_LEVELS)
  logLevel: LogLevel = 'info';

  @Env('LOG_SLOW_REQUEST_MS', { doc: 'The line per request is logged at info when the request took at least this long or was answered 4xx/5xx, else at debug' })
  @IsInt()
  @Min(0)
  @Max(600_000)
  logSlowRequestMs = 500;

  @Env('THROTTLE_LIMIT', { doc: 'Inbound requests allowed per client address per THROTTLE_TTL_MS (counted in each process, shared across replicas through Redis every THROTTLE_SYNC_MS)' })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  throttleLimit = 2000;

  @Env('THROTTLE_TTL_MS', { doc: 'Window of the inbound throttle (fixed windows aligned to the clock)' })
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  throttleTtlMs = 10_000;

  @Env('THROTTLE_SYNC_MS', { doc: "How often each process adds its inbound throttle counts to the replicas' shared counts in Redis and reads theirs back (a client may exceed THROTTLE_LIMIT by what it sends other replicas in this time)" })
  @IsInt()
  @Min(10)
  @Max(60_000)
  throttleSyncMs = 250;

  @Env('BODY_LIMIT_BYTES', { doc: 'Largest accepted request body' })
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  bodyLimitBytes = 64 * 1024;

  @Env('BODY_MAX_DEPTH', { doc: 'Deepest nesting of arrays and objects accepted in a JSON body (checked on the raw bytes before parsing; 400 beyond)' })
  @IsInt()
  @Min(2)
  @Max(1000)
  bodyMaxDepth = 16;

  @Env('MANAGEMENT_PORT', { doc: 'Serve /health and /metrics (without credentials) on this separate port too (0 = none); keep it off the Genesys-facing ingress' })
  @IsInt()
  @Min(0)
  @Max(65535)
  managementPort = 0;

  @Env('METRICS_TOKEN', { doc: 'Bearer token a scraper must send for /metrics on PORT; unset = /metrics is served on MANAGEMENT_PORT only (always open there)', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(24, { message: 'METRICS_TOKEN must be at least 24 characters' })
  metricsToken?: string;

  @Env('SHUTDOWN_DELAY_MS', { doc: 'On SIGTERM: keep accepting and serving this long after readiness turns 503, until load balancers have stopped sending (0 when a Kubernetes preStop sleep does that, as the chart does)' })
  @IsInt()
  @Min(0)
  @Max(120_000)
  shutdownDelayMs = 0;

  @Env('SHUTDOWN_GRACE_MS', { doc: 'On SIGTERM: readiness turns 503 at once, then in-flight requests get this long to finish before connections are closed' })
  @IsInt()
  @Min(0)
  @Max(600_000)
  shutdownGraceMs = 20_000;

  @Env('BENCH_BARE_ROUTE', { doc: 'Serve GET /__bench/bare, a route doing no work behind the same global guards, pipes and interceptors, and GET /__bench/raw, a plain Fastify route without any of them, as the baselines of npm run bench; keep off in production' })
  @IsBoolean()
  benchBareRoute = false;
}
