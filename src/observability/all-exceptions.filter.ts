import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { ForbiddenPolicyException } from './forbidden.exception.js';
import { InvalidSignatureException } from './invalid-signature.exception.js';
import { loggedFailure, toPublicError } from './public-error.js';

/** Set explicitly: a route's own content type (e.g. /metrics' text/plain, set before its handler ran) never applies to its error. */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The last line of defence: every error leaves as a sanitized body with the request's
 * correlation id; the full detail goes to the log line carrying the same id.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof InvalidSignatureException || exception instanceof ForbiddenPolicyException) {
      void reply.status(exception.getStatus()).header('cache-control', 'no-store').type(JSON_TYPE).send(exception.getResponse());
      return;
    }
    // no route matched: the router's 404 names the path, which is never echoed
    const { status, body } = toPublicError(exception, String(request.id), { routed: request.routeOptions?.url !== undefined });
    if (status >= 500) this.logger.error({ ...loggedFailure(exception), correlationId: request.id, url: request.routeOptions?.url }, 'request failed');
    else this.logger.debug({ correlationId: request.id, status, message: body.message }, 'request rejected');
    void reply.status(status).header('cache-control', 'no-store').type(JSON_TYPE).send(body);
  }
}
