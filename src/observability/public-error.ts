import { HttpException, HttpStatus } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';

import { isUpstreamError } from '../upstream/upstream-error.js';
import { StatedUnavailableException } from './stated-unavailable.exception.js';

/** The only error shape any client ever sees. */
export interface PublicErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: string[];
  correlationId: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Fastify's own client errors, reworded without the framework's codes. */
const FASTIFY_CODES: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: 'Request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'Request body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length does not match the body' },
  FST_ERR_BAD_URL: { status: 400, message: 'Malformed URL' },
};

/** Our wording for HTTP errors that libraries raise with their own text. */
const TOO_MANY_REQUESTS = 'Too many requests; retry later';

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

/** A framework error code we have our own wording for (Fastify's body and URL errors). */
function knownFrameworkError(error: unknown): { status: number; message: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? FASTIFY_CODES[code] : undefined;
}

/** An error raised by Fastify itself (Nest wraps the 4xx ones in an HttpException carrying Fastify's message). */
function isFrameworkError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'FastifyError' || knownFrameworkError(error) !== undefined);
}

export interface PublicErrorContext {
  /** False when no route matched: the framework's 404 text names the path, so only the reason phrase is given. */
  routed?: boolean;
}

/** The message of every 5xx but a stated one. */
const NOT_COMPLETED = 'The service could not complete the request';

/**
 * Turns any thrown value into a status and a body that reveal nothing internal: our own
 * HttpExceptions keep their (deliberately written) messages; a system we call that could not
 * answer (UpstreamError) is a plain 503; errors raised by the libraries (the throttler, Fastify's
 * body parsing, the router's 404) get our fixed wording whatever they carry; everything else is a
 * plain 500.
 */
export function toPublicError(exception: unknown, correlationId: string, context: PublicErrorContext = {}): { status: number; body: PublicErrorBody } {
  const plain = (status: number, message: string) => ({ status, body: { statusCode: status, error: reasonPhrase(status), message, correlationId } });
  if (exception instanceof ThrottlerException) return plain(HttpStatus.TOO_MANY_REQUESTS, TOO_MANY_REQUESTS);
  if (exception instanceof StatedUnavailableException) return plain(HttpStatus.SERVICE_UNAVAILABLE, exception.statement);
  if (isUpstreamError(exception)) return plain(HttpStatus.SERVICE_UNAVAILABLE, NOT_COMPLETED);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status < 500 && isFrameworkError(exception.cause)) return plain(status, knownFrameworkError(exception.cause)?.message ?? reasonPhrase(status));
    if (status < 500 && context.routed === false) return plain(status, reasonPhrase(status));
    const response = exception.getResponse();
    let message = status >= 500 ? NOT_COMPLETED : reasonPhrase(status);
    let details: string[] | undefined;
    if (status < 500) {
      if (typeof response === 'string') message = response;
      else if (typeof response === 'object' && response !== null) {
        const r = response as { message?: unknown; details?: unknown };
        if (Array.isArray(r.message)) {
          message = 'Invalid request';
          details = r.message.filter((m): m is string => typeof m === 'string');
        } else if (typeof r.message === 'string') message = r.message;
        if (Array.isArray(r.details)) details = r.details.filter((m): m is string => typeof m === 'string');
      }
    }
    return { status, body: { statusCode: status, error: reasonPhrase(status), message, ...(details ? { details } : {}), correlationId } };
  }
  const known = knownFrameworkError(exception);
  if (known) return plain(known.status, known.message);
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return plain(statusCode, reasonPhrase(statusCode));
  return plain(HttpStatus.INTERNAL_SERVER_ERROR, NOT_COMPLETED);
}

/**
 * What a log line says about a failure: an UpstreamError by its system, kind and status only (its
 * cause may hold the request, headers included); anything else as the error itself.
 */
export function loggedFailure(exception: unknown): Record<string, unknown> {
  return isUpstreamError(exception) ? { upstream: { source: exception.source, kind: exception.kind, status: exception.status } } : { err: exception };
}
