import { ServiceUnavailableException, SetMetadata } from '@nestjs/common';

/**
 * A 503 whose message is written for the caller (what was done, what to expect) and is shown as
 * is. Every other 5xx says only that the request could not be completed.
 */
export class StatedUnavailableException extends ServiceUnavailableException {
  constructor(readonly statement: string) {
    super(statement);
  }
}

export const STATED_UNAVAILABLE = Symbol('stated-unavailable');

/** A failure a route states in its own words, and those words. */
export interface UnavailableStatement {
  type: abstract new (...args: never[]) => Error;
  statement: string;
}

/**
 * On this route, a failure of `type` reaching the caller is answered as a StatedUnavailableException
 * saying `statement` (the error path maps it; the handler needs no catch). E.g. a cache
 * invalidation that could not be applied yet: the webhook and the billing write each say what it
 * means for their caller.
 */
export const StateWhenUnavailable = (type: UnavailableStatement['type'], statement: string): MethodDecorator =>
  SetMetadata<symbol, UnavailableStatement>(STATED_UNAVAILABLE, { type, statement });
