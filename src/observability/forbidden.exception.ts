import { HttpException, HttpStatus } from '@nestjs/common';

/** A policy refusal (wrong network, organization or scope): `403 {"error":"Forbidden"}`, no detail. */
export class ForbiddenPolicyException extends HttpException {
  constructor() {
    super({ error: 'Forbidden' }, HttpStatus.FORBIDDEN);
  }
}
