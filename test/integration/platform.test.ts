import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type TestService } from '../support/test-app.js';

let s: TestService;
beforeAll(async () => {
  s = await startService();
});
afterAll(async () => {
  await s.close();
});

describe('health, docs and logs', () => {
  it('is live and ready', async () => {
    expect((await s.get('/health/live')).status).toBe(200);
    const ready = await s.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
  });

  it('serves a valid OpenAPI document and Swagger UI', async () => {
    const doc = await s.get('/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/customers/{customerId}', '/v1/customers', '/genesys/v1/customer-lookup', '/health/ready']));
    expect(doc.body.components.schemas.Customer360.properties.sources).toMatchObject({ type: 'object', additionalProperties: { $ref: '#/components/schemas/SourceState' } });
    expect(doc.body.components.schemas.SourceState.properties.status.enum).toEqual(['ok', 'stale', 'timeout', 'rate_limited', 'unavailable', 'not_found', 'disabled']);
    // every $ref names a schema the document has
    const refs = [...doc.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((name) => !(name in doc.body.components.schemas))).toEqual([]);
    expect(doc.text).not.toContain('sandbox-sf-secret');
    expect((await s.get('/docs')).status).toBe(200);
  });

  it('answers unknown routes with the sanitized 404 shape', async () => {
    const res = await s.get('/nope');
    expect(res.status).toBe(404);
    expect(Object.keys(res.body).sort()).toEqual(['correlationId', 'error', 'message', 'statusCode']);
  });

  it('never writes a configured secret to the logs, and logs one JSON line per request at debug', async () => {
    const verbose = await startService({ env: { LOG_LEVEL: 'debug' } });
    try {
      await verbose.get('/v1/customers/0010100001', { authorization: 'Bearer sandbox-sf-secret' });
      const all = verbose.logs.join('');
      for (const secret of ['sandbox-sf-secret', 'sandbox-sap-password', 'sandbox-sn-password', 'sandbox-genesys-secret']) {
        expect(all).not.toContain(secret);
      }
      expect(requestLines(verbose).filter((l) => l.route === '/v1/customers/:customerId')).toEqual([expect.objectContaining({ level: 'debug', status: 200, method: 'GET' })]);
    } finally {
      await verbose.close();
    }
  });

  it('logs the request line at info only for a refused or slow answer (LOG_SLOW_REQUEST_MS), so a hit costs no log write at info', async () => {
    const quiet = await startService({ env: { LOG_LEVEL: 'info', LOG_SLOW_REQUEST_MS: '600000' } });
    const everything = await startService({ env: { LOG_LEVEL: 'info', LOG_SLOW_REQUEST_MS: '0' } });
    try {
      for (const service of [quiet, everything]) {
        expect((await service.get('/v1/customers/0010100001')).status).toBe(200);
        expect((await service.get('/nope')).status).toBe(404);
      }
      expect(requestLines(quiet).map((l) => [l.level, l.status])).toEqual([['info', 404]]);
      expect(requestLines(everything).map((l) => [l.level, l.status])).toEqual([['info', 200], ['info', 404]]);
    } finally {
      await Promise.all([quiet.close(), everything.close()]);
    }
  });
});

function requestLines(service: TestService): Array<{ msg?: string; route?: string; level?: string; status?: number; method?: string }> {
  return service.logs.map((l) => JSON.parse(l) as { msg?: string }).filter((l) => l.msg === 'request');
}
