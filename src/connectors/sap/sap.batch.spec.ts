import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../../upstream/upstream-error.js';
import { batchBytes, boundaryOf, buildBatch, parseBatchResponse } from './sap.batch.js';

const URLS = ["A_Customer?$filter=Customer%20eq%20'1'&$format=json", 'A_OperationalAcctgDocItemCube?$filter=x&$skiptoken=100'];

function answer(parts: Array<{ status: number; body: string; length?: boolean }>, boundary = 'B0', eol = '\r\n'): string {
  return (
    parts
      .map((p) =>
        [`--${boundary}`, 'Content-Type: application/http', 'content-transfer-encoding: binary', '', `HTTP/1.1 ${p.status} X`, 'Content-Type: application/json', ...(p.length === false ? [] : [`Content-Length: ${Buffer.byteLength(p.body)}`]), '', p.body].join(eol),
      )
      .join(eol) + `${eol}--${boundary}--${eol}`
  );
}

function refusal(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('bad_response');
    return err as UpstreamError;
  }
  throw new Error('expected a refusal');
}

describe('$batch request body', () => {
  it('one application/http part per GET, CRLF line breaks, closed by the close delimiter', () => {
    const { contentType, body } = buildBatch(URLS, 'batch_x');
    expect(contentType).toBe('multipart/mixed; boundary=batch_x');
    expect(body).toBe(
      '--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n' +
        `GET ${URLS[0]} HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n` +
        '--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n' +
        `GET ${URLS[1]} HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n` +
        '--batch_x--\r\n',
    );
  });

  it('batchBytes is the size of the body built with a generated boundary', () => {
    for (const urls of [URLS, [URLS[0]!], Array.from({ length: 30 }, (_, i) => `${URLS[1]}${'é'.repeat(i)}`)]) {
      expect(batchBytes(urls)).toBe(Buffer.byteLength(buildBatch(urls).body));
    }
    expect(batchBytes([])).toBe(0);
  });

  it('refuses a URL that is not encoded (a line break would forge a part)', () => {
    expect(() => buildBatch(['A_Customer HTTP/1.1\r\nX: y'])).toThrow(RangeError);
  });
});

describe('$batch answer', () => {
  it('splits the answer into status, headers and body per operation, in order (CRLF or LF, with or without Content-Length)', () => {
    for (const eol of ['\r\n', '\n']) {
      const text = answer(
        [
          { status: 200, body: '{"d":{"results":[]}}' },
          { status: 404, body: '{"error":{}}', length: false },
        ],
        'B0',
        eol,
      );
      const parts = parseBatchResponse('multipart/mixed; boundary=B0', text, 2);
      expect(parts.map((p) => [p.status, p.body, p.headers['content-type']])).toEqual([
        [200, '{"d":{"results":[]}}', 'application/json'],
        [404, '{"error":{}}', 'application/json'],
      ]);
    }
  });

  it('honours Content-Length in bytes (multi-byte characters)', () => {
    const body = '{"d":{"results":[{"CustomerName":"Müller & Söhne"}]}}';
    expect(parseBatchResponse('multipart/mixed;boundary="B0"', answer([{ status: 200, body }]), 1)[0]!.body).toBe(body);
  });

  it('reads a quoted or bare boundary, and nothing that is not multipart/mixed', () => {
    expect(boundaryOf('multipart/mixed; boundary="a b"')).toBe('a b');
    expect(boundaryOf('Multipart/Mixed;boundary=abc;charset=x')).toBe('abc');
    expect(boundaryOf('application/json')).toBeUndefined();
    expect(boundaryOf('multipart/mixed')).toBeUndefined();
    expect(boundaryOf(undefined)).toBeUndefined();
  });

  it.each([
    ['not multipart', 'application/json', '{"d":{}}', /not multipart\/mixed/],
    ['an HTML error page', 'multipart/mixed; boundary=B0', '<html><body>Bad Gateway</body></html>', /no part delimiter/],
    ['cut off half way', 'multipart/mixed; boundary=B0', answer([{ status: 200, body: '{}' }]).slice(0, 60), /cut off|closing delimiter|without an end/],
    ['cut off inside the body', 'multipart/mixed; boundary=B0', answer([{ status: 200, body: '{"d":{"results":[]}}' }]).replace(/--B0--\r\n$/, ''), /closing delimiter/],
    ['a part that is not application/http', 'multipart/mixed; boundary=B0', '--B0\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B0--\r\n', /not application\/http/],
    ['no status line', 'multipart/mixed; boundary=B0', '--B0\r\nContent-Type: application/http\r\n\r\nhello\r\n\r\n--B0--\r\n', /status line/],
    ['a header line without a colon', 'multipart/mixed; boundary=B0', '--B0\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nnonsense\r\n\r\n{}\r\n--B0--\r\n', /not a header line/],
    ['a body shorter than its Content-Length', 'multipart/mixed; boundary=B0', '--B0\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}\r\n--B0--\r\n', /shorter than its Content-Length/],
    ['an invalid Content-Length', 'multipart/mixed; boundary=B0', '--B0\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}\r\n--B0--\r\n', /invalid Content-Length/],
    ['no parts', 'multipart/mixed; boundary=B0', '--B0--\r\n', /no parts/],
    ['an empty body', 'multipart/mixed; boundary=B0', '', /no part delimiter/],
  ])('refuses %s as a bad response, never a TypeError', (_what, type, text, message) => {
    expect(refusal(() => parseBatchResponse(type, text, 1)).message).toMatch(message);
  });

  it('refuses an answer with more or fewer parts than operations asked', () => {
    const text = answer([{ status: 200, body: '{}' }]);
    expect(refusal(() => parseBatchResponse('multipart/mixed; boundary=B0', text, 2)).message).toContain('1 answers to 2 operations');
  });
});
