import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for one inbound request: the caller's
 * trace id when it sent a valid `traceparent`, else a new one; a span id of our own for this
 * request; and the correlation id. Held in AsyncLocalStorage so log lines and outbound CRM calls
 * pick it up without threading it through every signature.
 */
export interface TraceContext {
  traceId: string;
  /** This request's span: the parent of every outbound call made for it. */
  spanId: string;
  /** Trace flags (sampled = 01), passed on unchanged. */
  flags: string;
  correlationId: string;
}

const storage = new AsyncLocalStorage<TraceContext>();
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Random hex ids from randomUUID, which draws on a pre-filled entropy cache (randomBytes costs a syscall-sized call per request). */
function hex(bytes: 8 | 16): string {
  const id = randomUUID().replace(/-/g, '');
  return bytes === 16 ? id : id.slice(0, 16);
}

/** Parses a `traceparent` header; undefined when absent or invalid (the spec says: start a new trace). */
export function parseTraceparent(value: string | string[] | undefined): { traceId: string; parentId: string; flags: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, parentId, flags, rest] = match;
  if (version === 'ff' || traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  // version 00 has exactly four fields; later versions may append more, which we ignore
  if (version === '00' && rest !== undefined) return undefined;
  return { traceId, parentId, flags };
}

export function traceContextFrom(headers: IncomingHttpHeaders, correlationId: string): TraceContext {
  const parent = parseTraceparent(headers.traceparent);
  return { traceId: parent?.traceId ?? hex(16), spanId: hex(8), flags: parent?.flags ?? '01', correlationId };
}

/** Runs `fn` (and everything it starts) within a request's trace context. */
export function runWithTrace<T>(context: TraceContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/**
 * The `traceparent` for an outbound call made now: the same trace, with this request's span as
 * the parent, so the CRM's own traces and our log lines (which carry `spanId`) join up.
 */
export function outboundTraceparent(context: TraceContext | undefined = storage.getStore()): string | undefined {
  if (!context) return undefined;
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

/** Fields every log line of a request carries. */
export function traceLogFields(): Record<string, string> {
  const context = storage.getStore();
  return context ? { traceId: context.traceId, spanId: context.spanId, correlationId: context.correlationId } : {};
}
