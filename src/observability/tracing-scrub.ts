import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ExportResult } from '@opentelemetry/core';

/*
 * What leaves the process in a span carries no customer data and no secret, whichever
 * instrumentation wrote it. Every exported span passes through here: query strings (SOQL, OData
 * $filter, ServiceNow encoded queries: they carry customer numbers, phone numbers and e-mail
 * addresses) are removed from URLs, identifiers are taken out of paths (the inbound path becomes
 * its route template), Redis commands keep only their name (keys carry customer numbers and phone
 * numbers), captured headers and stack traces are dropped, and configured secret values are masked
 * in any text.
 */

export const REDACTED = '[REDACTED]';

/** Attributes never exported. */
const DROPPED = new Set(['url.query', 'url.fragment', 'http.request.body', 'http.response.body', 'exception.stacktrace', 'enduser.id', 'user.id', 'user.email', 'user.name']);
const HEADER = /^(http\.(request|response)\.header\.|rpc\.(request|response)\.metadata\.)/;
const FULL_URLS = new Set(['url.full', 'http.url', 'url.original']);
const PATHS = new Set(['url.path', 'http.target']);
const STATEMENTS = new Set(['db.query.text', 'db.statement']);

/** A path segment kept as it is: a word, a version (`v66.0`), a service name. Anything else may be an identifier. */
const PLAIN_SEGMENT = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const DIGIT_RUN = /\d{3}/;
/** `A_Customer('0010100001')` (an OData key predicate, maybe percent-encoded). */
const KEY_PREDICATE = /^([A-Za-z_][A-Za-z0-9_]*)(\(|%28).*$/;
/** URLs inside free text (an error message): their query strings go. */
const URL_QUERY_IN_TEXT = /(\bhttps?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/g;

/** A path with every segment that may identify someone replaced by `{id}` (key predicates by `({key})`). */
export function redactPath(path: string): string {
  const bare = path.split(/[?#]/, 1)[0];
  return bare
    .split('/')
    .map((segment) => {
      if (segment === '') return segment;
      const predicate = KEY_PREDICATE.exec(segment);
      if (predicate) return `${predicate[1]}({key})`;
      return PLAIN_SEGMENT.test(segment) && !DIGIT_RUN.test(segment) ? segment : '{id}';
    })
    .join('/');
}

/** An absolute URL as scheme://host[:port]/path with the path redacted and no query, fragment or credentials. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${redactPath(parsed.pathname)}`;
  } catch {
    return redactPath(url);
  }
}

/** Masks configured secret values and URL query strings in free text. */
export function secretMatcher(secrets: readonly string[]): RegExp | undefined {
  const usable = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  if (usable.length === 0) return undefined;
  return new RegExp(usable.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

export class SpanScrubber {
  constructor(private readonly secrets?: RegExp) {}

  text(value: string): string {
    const masked = this.secrets ? value.replace(this.secrets, REDACTED) : value;
    return masked.replace(URL_QUERY_IN_TEXT, '$1');
  }

  attributes(attributes: Attributes, route?: string): Attributes {
    const out: Attributes = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (value === undefined || DROPPED.has(key) || HEADER.test(key)) continue;
      if (FULL_URLS.has(key) && typeof value === 'string') out[key] = redactUrl(this.text(value));
      else if (PATHS.has(key) && typeof value === 'string') out[key] = route ?? redactPath(this.text(value));
      else if (STATEMENTS.has(key) && typeof value === 'string') out[key] = value.trim().split(/\s+/, 1)[0];
      else out[key] = this.value(value);
    }
    return out;
  }

  private value(value: AttributeValue): AttributeValue {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'string' ? this.text(v) : v)) as AttributeValue;
    return value;
  }

  /** The span as exported: same identity, timing and structure, scrubbed text. */
  span(span: ReadableSpan): ReadableSpan {
    const route = typeof span.attributes['http.route'] === 'string' ? span.attributes['http.route'] : undefined;
    return {
      name: this.text(span.name),
      kind: span.kind,
      spanContext: () => span.spanContext(),
      parentSpanContext: span.parentSpanContext,
      startTime: span.startTime,
      endTime: span.endTime,
      status: span.status.message === undefined ? span.status : { ...span.status, message: this.text(span.status.message) },
      attributes: this.attributes(span.attributes, route),
      links: span.links.map((link) => ({ ...link, attributes: link.attributes && this.attributes(link.attributes) })),
      events: span.events.map((event) => ({ ...event, name: this.text(event.name), attributes: event.attributes && this.attributes(event.attributes) })),
      duration: span.duration,
      ended: span.ended,
      resource: span.resource,
      instrumentationScope: span.instrumentationScope,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
    };
  }
}

/** Wraps an exporter so every span it sends has been scrubbed. */
export class ScrubbingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly scrubber: SpanScrubber,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(
      spans.map((s) => this.scrubber.span(s)),
      resultCallback,
    );
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
