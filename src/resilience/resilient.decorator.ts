import { SetMetadata } from '@nestjs/common';

export const RESILIENT = Symbol('resilient');

export interface ResilientOptions {
  /** Safe to repeat (reads). Writes are never retried. */
  idempotent: boolean;
}

export interface ResilientMetadata extends ResilientOptions {
  source: string;
}

/**
 * Marks a method whose calls go to one external system. The ResilienceModule wraps it at start-up
 * with that system's policies (breaker, shared rate limit, bulkhead, retries for reads), taken from
 * configuration; the method itself contains none of that. Its last AbortSignal argument, if any,
 * carries cancellation and the deadline.
 */
export const Resilient = (source: string, options: ResilientOptions = { idempotent: true }): MethodDecorator =>
  SetMetadata<symbol, ResilientMetadata>(RESILIENT, { source, ...options });
