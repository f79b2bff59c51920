import { SetMetadata, type Type } from '@nestjs/common';

export const RESILIENT = Symbol('resilient');

/** A system's call budget, shared by every replica: at most `points` calls per `windowSec` seconds. */
export interface RateLimit {
  readonly points: number;
  readonly windowSec: number;
}

/**
 * What a system's own configuration says about the calls made to it (e.g. SapConfig): its rate
 * limit. Breakers, retries and bulkheads follow the shared settings (ResilienceConfig).
 */
export interface ResilienceSettings {
  readonly rateLimit?: RateLimit;
}

export interface ResilientOptions {
  /** Safe to repeat (reads; the default). Writes are never retried. */
  idempotent?: boolean;
  /** The system's configuration class, read from the container at start-up for its rate limit. */
  settings?: Type<ResilienceSettings>;
}

export interface ResilientMetadata {
  source: string;
  idempotent: boolean;
  settings?: Type<ResilienceSettings>;
}

/**
 * Marks a method whose calls go to one external system. The ResilienceModule wraps it at start-up
 * with that system's policies (breaker, shared rate limit from its own settings, bulkhead, retries
 * for reads); the method itself contains none of that. Its last AbortSignal argument, if any,
 * carries cancellation and the deadline.
 */
export const Resilient = (source: string, options: ResilientOptions = {}): MethodDecorator =>
  SetMetadata<symbol, ResilientMetadata>(RESILIENT, { source, idempotent: options.idempotent ?? true, ...(options.settings ? { settings: options.settings } : {}) });
