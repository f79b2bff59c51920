import { BadRequestException, HttpException, InternalServerErrorException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../upstream/upstream-error.js';
import { loggedFailure, reasonPhrase, toPublicError } from './public-error.js';
import { StatedUnavailableException } from './stated-unavailable.exception.js';

const CID = 'corr-7f3a-42';

function fastifyError(code: string, statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { code, statusCode });
}

describe('toPublicError', () => {
  it('answers a system that could not answer (UpstreamError) with a plain 503, naming neither the system nor why', () => {
    const failure = new UpstreamError('sap', 'unavailable', 'connection failed (ECONNREFUSED)', 502, undefined, { cause: new Error('connect ECONNREFUSED 10.0.0.7:443') });
    const { status, body } = toPublicError(failure, CID);
    expect(status).toBe(503);
    expect(body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'The service could not complete the request', correlationId: CID });
  });

  it('logs an UpstreamError by its system, kind and status only (its cause may carry the request)', () => {
    const failure = new UpstreamError('salesforce', 'auth', 'authentication rejected', 401, undefined, { cause: { config: { headers: { authorization: 'Bearer secret-token' } } } });
    expect(loggedFailure(failure)).toEqual({ upstream: { source: 'salesforce', kind: 'auth', status: 401 } });
    const other = new Error('boom');
    expect(loggedFailure(other)).toEqual({ err: other });
  });

  it('turns an internal error into a generic 500 that reveals nothing', () => {
    const { status, body } = toPublicError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:6379'), { code: 'ECONNREFUSED' }), CID);
    expect(status).toBe(500);
    expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'The service could not complete the request', correlationId: CID });
    const text = JSON.stringify(body);
    expect(text).not.toContain('10.0.0.5');
    expect(text).not.toContain('6379');
    expect(text).not.toContain('ECONNREFUSED');
  });

  it.each([[null], [undefined], ['a thrown string with /etc/passwd'], [42], [{ message: 'db password wrong' }]])('thrown value %j → generic 500', (thrown) => {
    const { status, body } = toPublicError(thrown, CID);
    expect(status).toBe(500);
    expect(body.message).toBe('The service could not complete the request');
    expect(JSON.stringify(body)).not.toMatch(/passwd|password/);
  });

  it('a validation HttpException (message array) → 400 with the messages as details', () => {
    const messages = ['customerId must be 1-64 letters, digits, ".", "_" or "-"', 'phone must be at most 32 characters'];
    const { status, body } = toPublicError(new BadRequestException(messages), CID);
    expect(status).toBe(400);
    expect(body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Invalid request', details: messages, correlationId: CID });
  });

  it('keeps only string details', () => {
    const { body } = toPublicError(new BadRequestException({ message: ['ok', 42, { internal: true }] }), CID);
    expect(body.details).toEqual(['ok']);
  });

  it('keeps a 4xx HttpException message (deliberately written) and has no details', () => {
    const { status, body } = toPublicError(new NotFoundException('No customer 0010100001'), CID);
    expect(status).toBe(404);
    expect(body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No customer 0010100001', correlationId: CID });
    expect(toPublicError(new HttpException('Slow down', 429), CID).body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: 'Slow down' });
  });

  it('hides the message and details of a 5xx HttpException', () => {
    const { status, body } = toPublicError(new InternalServerErrorException({ message: 'redis at 10.0.0.5 down', details: ['stack'] }), CID);
    expect(status).toBe(500);
    expect(body.message).toBe('The service could not complete the request');
    expect(body).not.toHaveProperty('details');
    expect(JSON.stringify(body)).not.toContain('10.0.0.5');
    expect(toPublicError(new ServiceUnavailableException('pool exhausted'), CID)).toMatchObject({ status: 503, body: { error: 'Service Unavailable' } });
  });

  it('rewords a Fastify invalid-JSON error to a fixed 400', () => {
    const err = fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400, "Body is not valid JSON but content-type is set to 'application/json'");
    const { status, body } = toPublicError(err, CID);
    expect(status).toBe(400);
    expect(body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Request body is not valid JSON', correlationId: CID });
    expect(JSON.stringify(body)).not.toContain('FST_');
  });

  it.each([
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'Request body is empty'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported content type'],
    ['FST_ERR_BAD_URL', 400, 'Malformed URL'],
  ])('rewords %s → %i', (code, expected, message) => {
    const { status, body } = toPublicError(fastifyError(code, 999, 'framework text'), CID);
    expect(status).toBe(expected);
    expect(body.message).toBe(message);
    expect(body.correlationId).toBe(CID);
  });

  it('keeps an unknown 4xx status with its reason phrase, not the error text', () => {
    const { status, body } = toPublicError(fastifyError('FST_ERR_SOMETHING_NEW', 405, 'Route GET:/internal/admin not allowed'), CID);
    expect(status).toBe(405);
    expect(body).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: 'Method Not Allowed', correlationId: CID });
  });

  it('an unlisted 4xx status still gets a generic client-error phrase', () => {
    const { status, body } = toPublicError(Object.assign(new Error("I'm a teapot at 10.0.0.5"), { statusCode: 418 }), CID);
    expect(status).toBe(418);
    expect(body.error).toBe('Bad Request');
    expect(body.message).toBe('Bad Request');
    expect(JSON.stringify(body)).not.toContain('10.0.0.5');
  });

  it.each([[503], [302], ['400'], [399]])('a non-HttpException with statusCode %j is a plain 500', (statusCode) => {
    expect(toPublicError(Object.assign(new Error('x'), { statusCode }), CID).status).toBe(500);
  });

  it("words the libraries' own HTTP errors itself: the throttler, Fastify's errors as Nest wraps them, the router's 404", () => {
    expect(toPublicError(new ThrottlerException(), CID).body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Too many requests; retry later', correlationId: CID });
    const wrapped = new HttpException("Body is not valid JSON but content-type is set to 'application/json'", 400, { cause: Object.assign(fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400, 'x'), { name: 'FastifyError' }) });
    expect(toPublicError(wrapped, CID).body.message).toBe('Request body is not valid JSON');
    const unknownFastify = new HttpException('Route /x/y cannot be parsed', 400, { cause: Object.assign(new Error('Route /x/y cannot be parsed'), { name: 'FastifyError', code: 'FST_ERR_NEW' }) });
    expect(toPublicError(unknownFastify, CID).body.message).toBe('Bad Request');
    const router = new NotFoundException('Cannot GET /v1/<script>');
    expect(toPublicError(router, CID, { routed: false }).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Not Found', correlationId: CID });
    expect(toPublicError(new NotFoundException('No such file'), CID, { routed: true }).body.message).toBe('No such file');
  });

  it('shows the statement of a StatedUnavailableException (written for the caller), and no other 5xx text', () => {
    expect(toPublicError(new StatedUnavailableException('Written to SAP; the view refreshes shortly'), CID).body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Written to SAP; the view refreshes shortly', correlationId: CID });
    expect(toPublicError(new ServiceUnavailableException('redis at 10.0.0.5 down'), CID).body.message).toBe('The service could not complete the request');
  });

  it('always carries the given correlation id', () => {
    for (const e of [new Error('x'), new BadRequestException(['a']), fastifyError('FST_ERR_BAD_URL', 400, 'x'), { statusCode: 404 }]) {
      expect(toPublicError(e, 'abc-123').body.correlationId).toBe('abc-123');
    }
  });
});

describe('reasonPhrase', () => {
  it('names known statuses and falls back by class', () => {
    expect(reasonPhrase(404)).toBe('Not Found');
    expect(reasonPhrase(504)).toBe('Gateway Timeout');
    expect(reasonPhrase(451)).toBe('Bad Request');
    expect(reasonPhrase(599)).toBe('Internal Server Error');
  });
});
