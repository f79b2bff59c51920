import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The correlation id of a request: Genesys's `ININ-Correlation-Id` when it sends one, else the
 * caller's `X-Correlation-Id`, else a new UUID. Anything not shaped like an id is ignored so a
 * caller cannot inject text into our logs.
 */
export function correlationIdFrom(headers: IncomingHttpHeaders): string {
  for (const name of ['inin-correlation-id', 'x-correlation-id', 'x-request-id']) {
    const value = headers[name];
    if (typeof value === 'string' && SAFE_ID.test(value)) return value;
  }
  return randomUUID();
}
