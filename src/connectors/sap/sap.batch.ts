import { randomUUID } from 'node:crypto';

import { UpstreamError } from '../../upstream/upstream-error.js';

/**
 * OData V2 `$batch` on the wire (multipart/mixed, MIME parts of `Content-Type: application/http`):
 * a body of retrieve operations (GETs, outside any change set) and the gateway's answer split back
 * into one HTTP response per operation, in the order asked. Everything SAP sends that does not
 * read as such is a bad response, never a TypeError.
 */

const CRLF = '\r\n';

export interface BatchRequest {
  /** `multipart/mixed; boundary=…` */
  contentType: string;
  body: string;
}

/** One operation's answer: its HTTP status, its headers (lower-case names) and its body text. */
export interface BatchPart {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The body of a `$batch` of GETs; each URL is relative to the service root (its query already encoded). */
export function buildBatch(urls: readonly string[], boundary = `batch_${randomUUID()}`): BatchRequest {
  const parts = urls.map((url) => partText(boundary, url));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: `${parts.join(CRLF)}${CRLF}--${boundary}--${CRLF}` };
}

/** One retrieve operation, outside any change set; the CRLF before the next delimiter belongs to it. */
function partText(boundary: string, url: string): string {
  if (url === '' || /[\s]/.test(url)) throw new RangeError('a batch operation URL must be encoded (no spaces or line breaks)');
  return [`--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', '', `GET ${url} HTTP/1.1`, 'Accept: application/json', '', ''].join(CRLF);
}

const BOUNDARY_LENGTH = 'batch_'.length + 36;
const SAMPLE_BOUNDARY = 'x'.repeat(BOUNDARY_LENGTH);

/** The bytes {@link buildBatch} makes of these URLs (the body bound is checked without building it). */
export function batchBytes(urls: readonly string[]): number {
  if (urls.length === 0) return 0;
  const parts = urls.reduce((n, url) => n + Buffer.byteLength(partText(SAMPLE_BOUNDARY, url)), 0);
  return parts + 2 * (urls.length - 1) + 2 + BOUNDARY_LENGTH + 4 + 2;
}

function bad(why: string): UpstreamError {
  return new UpstreamError('sap', 'bad_response', `unreadable $batch answer: ${why}`);
}

/** The boundary of a `multipart/mixed` content type (quoted or not), or undefined when it is not one. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (typeof contentType !== 'string' || !/^\s*multipart\/mixed\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/**
 * The parts of a multipart body (RFC 2046): the text between `--boundary` delimiter lines, up to
 * the closing `--boundary--`. A body that never closes (cut off) or has no part is refused.
 */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let at = body.startsWith(delimiter) ? 0 : body.indexOf(`\n${delimiter}`);
  if (at < 0) throw bad('no part delimiter');
  if (at > 0) at += 1;
  for (;;) {
    const lineEnd = at + delimiter.length;
    if (body.startsWith('--', lineEnd)) break; // the close delimiter
    const contentStart = body.indexOf('\n', lineEnd);
    if (contentStart < 0) throw bad('cut off after a delimiter');
    if (body.slice(lineEnd, contentStart).trim() !== '') throw bad('text after a delimiter');
    const next = body.indexOf(`\n${delimiter}`, contentStart);
    if (next < 0) throw bad('no closing delimiter (cut off?)');
    // the line break before a delimiter belongs to the delimiter
    const end = body[next - 1] === '\r' ? next - 1 : next;
    parts.push(body.slice(contentStart + 1, Math.max(contentStart + 1, end)));
    at = next + 1;
  }
  if (parts.length === 0) throw bad('no parts');
  return parts;
}

/** Header lines up to the first empty line → lower-case names to values, and the rest. */
export function splitHeaders(text: string): { headers: Record<string, string>; rest: string } {
  const headers: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const end = text.indexOf('\n', at);
    if (end < 0) throw bad('headers without an end');
    const line = text.slice(at, text[end - 1] === '\r' ? end - 1 : end);
    at = end + 1;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad(`not a header line: ${JSON.stringify(line.slice(0, 60))}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest: text.slice(at) };
}

/**
 * The gateway's `multipart/mixed` answer to a batch of `expected` retrieve operations → one
 * response per operation, in order. Each part must be `application/http` holding a status line,
 * headers and the body (its `Content-Length`, when given, is honoured).
 */
export function parseBatchResponse(contentType: string | undefined, body: string, expected: number): BatchPart[] {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) throw bad(`content type ${JSON.stringify(String(contentType ?? '').slice(0, 80))} is not multipart/mixed with a boundary`);
  const parts = splitMultipart(body, boundary).map((part) => {
    const mime = splitHeaders(part);
    const type = mime.headers['content-type'] ?? '';
    if (!/^application\/http\b/i.test(type)) throw bad(`a part of type ${JSON.stringify(type.slice(0, 60))}, not application/http`);
    const statusEnd = mime.rest.indexOf('\n');
    if (statusEnd < 0) throw bad('a part without a status line');
    const statusLine = mime.rest.slice(0, statusEnd).trimEnd();
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!m) throw bad(`not a status line: ${JSON.stringify(statusLine.slice(0, 60))}`);
    const http = splitHeaders(mime.rest.slice(statusEnd + 1));
    let text = http.rest;
    const length = http.headers['content-length'];
    if (length !== undefined) {
      if (!/^\d{1,9}$/.test(length)) throw bad('a part with an invalid Content-Length');
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length < Number(length)) throw bad('a part shorter than its Content-Length');
      text = bytes.subarray(0, Number(length)).toString('utf8');
    } else {
      text = text.replace(/\r?\n$/, '');
    }
    return { status: Number(m[1]), headers: http.headers, body: text };
  });
  if (parts.length !== expected) throw bad(`${parts.length} answers to ${expected} operations`);
  return parts;
}
