import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ForbiddenPolicyException } from '../observability/forbidden.exception.js';
import { InvalidSignatureException } from '../observability/invalid-signature.exception.js';
import { loggedFailure, toPublicError } from '../observability/public-error.js';
import { SampledWarning } from '../observability/sampled-warning.js';
import { isUpstreamError } from '../upstream/upstream-error.js';

/**
 * Errors on the Genesys-facing endpoint in the shape flows expect: `{ status: "error", message }`.
 * Client errors keep their (safe) validation details; anything else (a CRM or Genesys that could
 * not answer included) is a generic 503 so the flow takes its fallback path, never a stack trace.
 */
@Catch()
export class GenesysErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('GenesysAction');
  /**
   * No system could answer and no copy was kept (the look-up's verdict), or a system refused: an
   * outcome the service is built for, not a fault in it. In a burst that is every request for a
   * while, so it is logged at most once a second with the count; each request's own line (status
   * 503, correlation id) and the per-source metrics still say it.
   */
  private readonly unavailable = new SampledWarning(this.logger);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = String(request.id);
    if (exception instanceof InvalidSignatureException || exception instanceof ForbiddenPolicyException) {
      void reply.status(exception.getStatus()).header('cache-control', 'no-store').send(exception.getResponse());
      return;
    }
    const { status, body } = toPublicError(exception, correlationId);
    if (status < 500 && exception instanceof HttpException) {
      void reply.status(status).send({ status: 'error', message: body.message, ...(body.details ? { details: body.details } : {}), correlationId });
      return;
    }
    if (status < 500) {
      void reply.status(status).send({ status: 'error', message: body.message, correlationId });
      return;
    }
    if (exception instanceof ServiceUnavailableException) this.unavailable.warn({ msg: 'custom action unavailable: no system answered in time and no copy was kept', correlationId });
    else if (isUpstreamError(exception)) this.unavailable.warn({ msg: 'custom action unavailable', correlationId, ...loggedFailure(exception) });
    else this.logger.error({ msg: 'custom action failed', correlationId, ...loggedFailure(exception) });
    void reply.status(503).send({ status: 'error', message: 'Service temporarily unavailable', correlationId });
  }
}
