import { HttpException, HttpStatus } from '@nestjs/common';

/** The one answer to a failed authentication check: `401 {"error":"Invalid Signature"}`, no detail. */
export class InvalidSignatureException extends HttpException {
  constructor() {
    super({ error: 'Invalid Signature' }, HttpStatus.UNAUTHORIZED);
  }
}
