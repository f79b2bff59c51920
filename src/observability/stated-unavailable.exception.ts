import { ServiceUnavailableException } from '@nestjs/common';

/**
 * A 503 whose message is written for the caller (what was done, what to expect) and is shown as
 * is. Every other 5xx says only that the request could not be completed.
 */
export class StatedUnavailableException extends ServiceUnavailableException {
  constructor(readonly statement: string) {
    super(statement);
  }
}
