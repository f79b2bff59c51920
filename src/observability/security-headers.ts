import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import type { Logger } from 'pino';
import { reasonPhrase, type PublicErrorBody } from './public-error.js';

const HSTS_MAX_AGE_SECONDS = 31_536_000;

/**
 * helmet's policy for every response. Framing is ruled by CSP frame-ancestors alone: the
 * legacy X-Frame-Options would say SAMEORIGIN beside frame-ancestors 'none' (a contradiction),
 * and the side panel replaces the CSP with its own frame-ancestors for the Genesys desktop.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"], // Swagger UI
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
    },
  },
  xFrameOptions: false,
  hsts: { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: true },
};

/**
 * The headers helmet sets for `options`, worked out once: helmet's middleware run against a
 * response that only records them. The policy does not depend on the request, so every response
 * gets this same set (names in lower case, as Fastify keeps them) instead of helmet parsing its
 * directives again per request.
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      return recorder;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return Object.freeze(headers);
}

/**
 * The headers of an answer written before Fastify sees the request (a client error of Node's
 * HTTP parser): the security headers that matter for a JSON error, in their strictest form.
 */
const BARE_ERROR_HEADERS: Record<string, string> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  connection: 'close',
};

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time' },
};

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (headers over maxHeaderSize,
 * a malformed request line, a request that never finished) is answered in the service's error
 * shape, with a correlation id (also in the log line) and the security headers, then the
 * connection is closed. The request was never parsed, so its own correlation id is unknown.
 */
export function clientErrorHandler(logger: Logger): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const known = (error.code && CLIENT_ERRORS[error.code]) || { status: 400, message: 'Malformed HTTP request' };
    const correlationId = randomUUID();
    logger.debug({ correlationId, status: known.status, code: error.code }, 'request refused by the HTTP parser');
    const body: PublicErrorBody = { statusCode: known.status, error: reasonPhrase(known.status), message: known.message, correlationId };
    const text = JSON.stringify(body);
    const headers = { ...BARE_ERROR_HEADERS, 'x-correlation-id': correlationId, 'content-length': String(Buffer.byteLength(text)) };
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${known.status} ${reasonPhrase(known.status)}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${text}`);
    }
    socket.destroy();
  };
}
