import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { runInContext, runWith, workContext } from './work-context.js';

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

/** Runs `fn` (and everything it starts: guards, handlers, CRM calls) as part of the request with this correlation id (a request starts a context of its own). */
export function runWithCorrelation<T>(correlationId: string, fn: () => T): T {
  return runInContext({ correlationId }, fn);
}

/** The correlation id of the request being served now, for log lines (undefined outside a request). */
export function currentCorrelationId(): string | undefined {
  return workContext().correlationId;
}

/** Runs `fn` outside any request (its log lines carry no correlation id). */
export function outsideRequest<T>(fn: () => T): T {
  return runWith({ correlationId: undefined }, fn);
}
