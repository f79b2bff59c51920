/**
 * The gateway's side of OData V2 `$batch` (multipart/mixed, RFC 2046): a request body read into
 * its operations (retrieve operations as `application/http` parts, change sets as nested
 * `multipart/mixed` parts), and answers written back as one `application/http` part each.
 * Line breaks may be CRLF (as the spec asks) or LF (as some clients send).
 */
import { randomBytes } from 'node:crypto';

export class BatchSyntaxError extends Error {}

export interface BatchOperationRequest {
  kind: 'operation';
  method: string;
  /** The request target as written (relative to the service root, an absolute path or an absolute URL). */
  target: string;
  headers: Record<string, string>;
  body: string;
}

export interface BatchChangeSetRequest {
  kind: 'changeset';
  operations: BatchOperationRequest[];
}

export type BatchItem = BatchOperationRequest | BatchChangeSetRequest;

export interface BatchOperationAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/mixed\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;"]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/** Lines of a MIME entity: header fields up to the empty line, then the rest. */
function headersAndRest(text: string): { headers: Record<string, string>; rest: string } {
  const lines = text.split(/\r?\n/);
  const headers: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      i++;
      break;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BatchSyntaxError(`Invalid header line '${line.slice(0, 80)}' in a batch part`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest: lines.slice(i).join('\n') };
}

function bodyParts(body: string, boundary: string): string[] {
  const lines = body.split(/\r?\n/);
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const bare = line.trimEnd();
    if (bare === delimiter || bare === `${delimiter}--`) {
      if (current) parts.push(current.join('\n'));
      current = bare === delimiter ? [] : undefined;
      if (bare !== delimiter) {
        closed = true;
        break;
      }
      continue;
    }
    current?.push(line);
  }
  if (!closed) throw new BatchSyntaxError(`The batch body does not end with the closing delimiter '--${boundary}--'`);
  return parts;
}

function operation(part: string): BatchOperationRequest {
  const mime = headersAndRest(part);
  const type = mime.headers['content-type'] ?? '';
  if (!/^application\/http\b/i.test(type)) throw new BatchSyntaxError(`A batch part must have Content-Type application/http, not '${type}'`);
  const [requestLine = '', ...rest] = mime.rest.split('\n');
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine.trim());
  if (!m) throw new BatchSyntaxError(`Invalid request line '${requestLine.slice(0, 80)}' in a batch part`);
  const http = headersAndRest(rest.join('\n'));
  return { kind: 'operation', method: m[1]!, target: m[2]!, headers: http.headers, body: http.rest.replace(/\n+$/, '') };
}

/** The items of a `$batch` body, in order. */
export function parseBatchRequest(contentType: string | undefined, body: string): BatchItem[] {
  const boundary = multipartBoundary(contentType);
  if (boundary === undefined) throw new BatchSyntaxError(`The $batch request needs Content-Type multipart/mixed with a boundary, got '${contentType ?? ''}'`);
  return bodyParts(body, boundary).map((part): BatchItem => {
    const mime = headersAndRest(part);
    const inner = multipartBoundary(mime.headers['content-type']);
    if (inner === undefined) return operation(part);
    return { kind: 'changeset', operations: bodyParts(mime.rest, inner).map(operation) };
  });
}

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error' };

/** The answers as the gateway writes them: `multipart/mixed` with one `application/http` part each. */
export function writeBatchResponse(answers: readonly BatchOperationAnswer[]): { contentType: string; body: string } {
  const boundary = randomBytes(16).toString('hex').toUpperCase() + '0';
  const parts = answers.map((a) => {
    const headers = { ...a.headers, 'Content-Length': String(Buffer.byteLength(a.body)) };
    const http = [`HTTP/1.1 ${a.status} ${REASONS[a.status] ?? ''}`.trimEnd(), ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', a.body].join('\r\n');
    return [`--${boundary}`, 'Content-Type: application/http', `Content-Length: ${Buffer.byteLength(http)}`, 'content-transfer-encoding: binary', '', http].join('\r\n');
  });
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: `${parts.join('\r\n')}\r\n--${boundary}--\r\n` };
}
