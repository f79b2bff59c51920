/**
 * The security sweep: the attacks of the outside review (issue 14), replayed against the real
 * service over real HTTP, wired to the simulators. The first half pins what the review found and
 * was fixed; the second half pins the attack classes that held, so they keep holding.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';

import { type CryptoKey, exportJWK, generateKeyPair, importPKCS8, type JWK,SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/app.config.js';
import { sign, signatureHeader } from '../../src/auth/signature.js';
import { startManagementServer } from '../../src/health/management-server.js';
import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { sandboxEnv } from '../sandbox/simulators.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';
import { serviceSuite } from '../support/service-suite.js';
import { type TestService, throttleWindowMs } from '../support/test-app.js';

const suite = serviceSuite();
let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ACTION = '/genesys/v1/customer-lookup';
const API_KEY = { 'x-api-key': SANDBOX_INBOUND.apiKey };
const now = () => Math.floor(Date.now() / 1000);
const crmCalls = () => suite.sims.salesforce.callCount() + suite.sims.sap.callCount() + suite.sims.servicenow.callCount();
/** Words of the frameworks and libraries the service is built on: never in a response. */
const LIBRARY_WORDING = /Exception|FST_|fastify|\bNest(js)?\b|Cannot (GET|POST|PATCH|PUT|DELETE)|Validation failed|content-type is set|class-validator|at \w+ \(|node_modules/i;

/** The service with authentication on, as in production: JWT and API key for Genesys, JWT for /v1, HMAC webhooks. */
function secured(env: Record<string, string> = {}): Promise<TestService> {
  return suite.service({ GENESYS_AUTH: 'jwt,apikey', INTERNAL_AUTH: 'jwt', JWT_SIGNING_KEY: KEY, ...env });
}

async function issued(s: TestService, scope?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: SANDBOX_INBOUND.clientId, client_secret: SANDBOX_INBOUND.clientSecret, ...(scope ? { scope } : {}) });
  const res = await fetch(`${s.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function ourKid(s: TestService): Promise<string> {
  return ((await s.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string }> }).keys[0].kid;
}

/** A token signed with the service's own key, with exactly the claims given. */
async function signedWithOurKey(s: TestService, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iss: 'customer360', aud: 'customer360', scope: 'customer:read customer:write genesys:action', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: await ourKid(s), ...header })
    .sign(await importPKCS8(KEY, 'ES256'));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function patch(s: TestService, path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${s.url}${path}`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...headers }, body });
}

function postWebhook(s: TestService, body: string, signature: string, source = 'salesforce') {
  return s.post(`/v1/webhooks/${source}`, body, { 'x-signature': signature });
}

describe('1. webhook signatures: one captured notification cannot be replayed', () => {
  const body = JSON.stringify({ customerId: DEMO.healthy, event: 'account.updated' });

  it('refuses a replay that puts a random v1 in front of (or after) the real one, and the replay costs no CRM call', async () => {
    const s = await secured();
    const t = now();
    const valid = sign(SANDBOX_INBOUND.webhookSecret, t, body);
    expect((await postWebhook(s, body, `t=${t},v1=${valid}`)).status).toBe(202);
    await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await issued(s)));
    const callsAfterWarmUp = crmCalls();
    for (const header of [`t=${t},v1=${randomBytes(32).toString('hex')},v1=${valid}`, `t=${t},v1=${valid},v1=${randomBytes(32).toString('hex')}`, `t=${t}, v1=${valid}`]) {
      const res = await postWebhook(s, body, header);
      expect(res.status, header).toBe(401);
      expect(res.text).toBe('{"error":"Invalid Signature"}');
    }
    // the cache was not emptied by the refused replays: the next look-up is served from it
    await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await issued(s)));
    expect(crmCalls()).toBe(callsAfterWarmUp);
  });

  it('is replay-protected on the signed content across routes too (a webhook for one source replayed to another)', async () => {
    const s = await secured();
    const header = signatureHeader(SANDBOX_INBOUND.webhookSecret, now(), body);
    expect((await postWebhook(s, body, header, 'sap')).status).toBe(202);
    expect((await postWebhook(s, body, header, 'servicenow')).status).toBe(401);
  });

  it('parses the header strictly: one t, a bounded number of well-formed v1, nothing else', async () => {
    const s = await secured();
    const t = now();
    const valid = sign(SANDBOX_INBOUND.webhookSecret, t, body);
    const junk = () => randomBytes(32).toString('hex');
    const malformed = [
      `t=${t},t=${t + 1},v1=${valid}`, // two timestamps
      `t=${t},v1=${junk()},v1=${junk()},v1=${junk()},v1=${junk()},v1=${valid}`, // more values than any key rotation needs
      `t=${t},v1=${valid},v0=${junk()}`, // an unknown scheme
      `t=${t},,v1=${valid}`, // an empty item
      `t=${t},v1=${valid.toUpperCase()}`, // not lower-case hex
      `t=${t},v1=${valid}=`, // trailing garbage
      `v1=${valid}`, // no timestamp
    ];
    for (const header of malformed) expect((await postWebhook(s, body, header)).status, header).toBe(401);
    // and the well-formed original still works after all of those
    expect((await postWebhook(s, body, `t=${t},v1=${valid}`)).status).toBe(202);
  });

  it('throttles webhooks like every other route (per client)', async () => {
    const s = await secured({ THROTTLE_LIMIT: '3', THROTTLE_TTL_MS: throttleWindowMs() });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postWebhook(s, body, `t=${now()},v1=${randomBytes(32).toString('hex')}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('2. deeply nested JSON is a 400 decided before any validation', () => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  const deepObject = '{"customerId":'.repeat(3_000) + '"0010100001"' + '}'.repeat(3_000); // within BODY_LIMIT_BYTES

  it('on /v1, the webhooks, the custom action and the token endpoint', async () => {
    const s = await secured({ GENESYS_AUTH: 'apikey,hmac' });
    const token = await issued(s);
    const answers = [
      await s.post(ACTION, deep, API_KEY),
      await s.post(ACTION, deepObject, API_KEY),
      await postWebhook(s, deep, signatureHeader(SANDBOX_INBOUND.webhookSecret, now(), deep)),
      await patch(s, `/v1/customers/${DEMO.healthy}/billing`, deep, bearer(token)).then(async (r) => ({ status: r.status, text: await r.text() })),
      await s.post('/oauth/token', deep),
    ];
    for (const answer of answers) {
      expect(answer.status, answer.text.slice(0, 200)).toBe(400);
      expect(answer.text).toContain('nested too deeply');
      expect(answer.text).not.toMatch(LIBRARY_WORDING);
    }
    expect(suite.sims.sap.requests('updateCustomer')).toHaveLength(0);
  });

  it('is configurable (BODY_MAX_DEPTH), counts containers only (brackets inside strings are text), and lets flat bodies through', async () => {
    const s = await suite.service({ BODY_MAX_DEPTH: '2' });
    const tooDeep = await s.post(ACTION, '{"customerId":"0010100001","x":{"y":{}}}');
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.text).toContain('nested too deeply');
    const atTheBound = await s.post(ACTION, '{"customerId":"0010100001","x":{}}');
    expect(atTheBound.status).toBe(400);
    expect(atTheBound.text).not.toContain('nested too deeply'); // refused by validation instead (x is not a field)
    const bracketsInText = await s.post(ACTION, { phone: '[[[[{{{{' });
    expect(bracketsInText.status).toBe(400);
    expect(bracketsInText.text).not.toContain('nested too deeply'); // a bad phone number, not a deep body
    expect((await s.post(ACTION, { customerId: DEMO.healthy })).status).toBe(200);
  });
});

describe('3. token lifetime is enforced', () => {
  it('refuses a correctly signed token without exp, with exp years ahead, or issued in the future', async () => {
    const s = await secured();
    const t = now();
    const refused = {
      'no exp': await signedWithOurKey(s, { iat: t }),
      'exp ten years ahead': await signedWithOurKey(s, { iat: t, exp: t + 10 * 365 * 86_400 }),
      'exp two hours ahead, no iat': await signedWithOurKey(s, { exp: t + 7200 }),
      'iat an hour in the future': await signedWithOurKey(s, { iat: t + 3600, exp: t + 3900 }),
      'a lifetime (exp - iat) longer than allowed': await signedWithOurKey(s, { iat: t - 86_000, exp: t + 600 }),
    };
    for (const [what, token] of Object.entries(refused)) {
      const res = await s.get(`/v1/customers/${DEMO.healthy}`, bearer(token));
      expect(res.status, what).toBe(401);
      expect(res.text).toBe('{"error":"Invalid Signature"}');
    }
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await signedWithOurKey(s, { iat: t, exp: t + 900 })))).status).toBe(200);
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await signedWithOurKey(s, { iat: t + 3, exp: t + 900 })))).status, 'within the clock tolerance').toBe(200);
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await issued(s)))).status).toBe(200);
  });

  it('takes the maximum lifetime from JWT_MAX_LIFETIME_SECONDS, and refuses to start with issued tokens living longer', async () => {
    const s = await secured({ JWT_MAX_LIFETIME_SECONDS: '600', JWT_TTL_SECONDS: '300' });
    const t = now();
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await signedWithOurKey(s, { iat: t, exp: t + 900 })))).status).toBe(401);
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(await signedWithOurKey(s, { iat: t, exp: t + 600 })))).status).toBe(200);
    expect(() => loadConfig(sandboxEnv(suite.sims, { JWT_MAX_LIFETIME_SECONDS: '600', JWT_TTL_SECONDS: '900' }))).toThrow(/JWT_TTL_SECONDS .*JWT_MAX_LIFETIME_SECONDS/);
  });
});

describe('4. the inbound throttle counts per client across all routes', () => {
  for (const storage of ['memory', 'redis'] as const) {
    it(`with ${storage} storage: one budget per client, whichever routes it calls`, async () => {
      const s = await suite.service({ THROTTLE_LIMIT: '3', THROTTLE_TTL_MS: throttleWindowMs(), ...(storage === 'redis' ? { REDIS_URL: redis.url, CACHE_KEY_PREFIX: `sweep${Date.now()}` } : {}) });
      const first = await s.get(`/v1/customers/${DEMO.healthy}`);
      const second = await s.post(ACTION, { customerId: DEMO.healthy });
      const third = await s.get(`/v1/customers?phone=${encodeURIComponent('+14155550100')}`);
      expect([first, second, third].map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0']);
      expect((await s.get(`/v1/customers/${DEMO.manyTickets}`)).status).toBe(429);
      expect((await s.post(ACTION, { customerId: DEMO.manyTickets })).status).toBe(429);
    });
  }
});

describe('4. (and an IPv6 client is its /64: rotating addresses inside it buys nothing)', () => {
  it('counts 2001:db8:1:2::1, ::2 and ::3 as one client, another /64 as another', async () => {
    const s = await suite.service({ THROTTLE_LIMIT: '2', THROTTLE_TTL_MS: throttleWindowMs(), TRUSTED_PROXY_CIDRS: '127.0.0.1/32' });
    const from = async (client: string) => (await s.get(`/v1/customers/${DEMO.healthy}`, { 'x-forwarded-for': client })).status;
    expect([await from('2001:db8:1:2::1'), await from('2001:db8:1:2::2'), await from('2001:db8:1:2:ffff::3')]).toEqual([200, 200, 429]);
    expect(await from('2001:db8:1:3::1')).toBe(200);
  });
});

describe('5. /metrics on the public port needs credentials', () => {
  it('is not served on the public port without METRICS_TOKEN', async () => {
    const s = await suite.service();
    const res = await s.get('/metrics');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('c360_');
    expect(res.text).not.toContain(process.version);
  });

  it('with METRICS_TOKEN: only with that bearer token (constant-time), else a plain 401', async () => {
    const token = randomBytes(24).toString('hex');
    const s = await suite.service({ METRICS_TOKEN: token });
    expect((await s.get('/metrics')).status).toBe(401);
    // one character off (the last one changed, whatever it was: a random token ends in '0' one time in 16)
    expect((await s.get('/metrics', bearer(`${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`))).status).toBe(401);
    const scraped = await s.get('/metrics', bearer(token));
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('c360_http_requests_in_flight');
  });

  it('stays open on the management port (kept off the public ingress)', async () => {
    const s = await suite.service();
    const port = await freePort();
    const management = await startManagementServer(s.app, port, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('c360_http_requests_in_flight');
    } finally {
      await new Promise<void>((resolve) => management.close(() => resolve()));
    }
  });
});

/** A raw HTTP exchange: what Node answers before Fastify ever sees the request. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('6. error bodies and headers say nothing of the stack', () => {
  it('words every framework refusal itself: throttling, bad JSON, a non-object body, an unknown route', async () => {
    const limited = await suite.service({ THROTTLE_LIMIT: '1', THROTTLE_TTL_MS: throttleWindowMs() });
    expect((await limited.get(`/v1/customers/${DEMO.healthy}`)).status).toBe(200);
    const throttled = await limited.get(`/v1/customers/${DEMO.healthy}`);
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Too many requests; retry later', correlationId: throttled.headers.get('x-correlation-id') });
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    const s = await suite.service();
    const badJson = await s.post(ACTION, '{"customerId":');
    expect(badJson.status).toBe(400);
    expect(badJson.body.message).toBe('Request body is not valid JSON');
    const notAnObject = await s.post(ACTION, '[]');
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body.details).toEqual(['the body must be a JSON object']);
    const unknown = await s.get('/v1/no-such-thing/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Not Found', correlationId: unknown.headers.get('x-correlation-id') });
    for (const res of [badJson, notAnObject, unknown, throttled]) expect(res.text).not.toMatch(LIBRARY_WORDING);
  });

  it('answers an oversized header block (431, from Node before Fastify) in the same shape, with a correlation id and the security headers', async () => {
    const s = await suite.service();
    const res = await rawGet(`${s.url}/v1/customers/${DEMO.healthy}`, { 'x-padding': 'a'.repeat(20_000) });
    expect(res.status).toBe(431);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(body).toEqual({ statusCode: 431, error: 'Request Header Fields Too Large', message: 'Request headers are too large', correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(res.headers['x-correlation-id']).toBe(body.correlationId);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('marks answers carrying personal data no-store, and frames nothing through CSP alone (no contradicting X-Frame-Options)', async () => {
    const s = await suite.service();
    const view = await s.get(`/v1/customers/${DEMO.healthy}`);
    const action = await s.post(ACTION, { customerId: DEMO.healthy });
    for (const res of [view, action]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBeNull();
    }
  });
});

describe('7. random opaque bearer tokens cannot make the service call Genesys at will', () => {
  it('bounds the new checks per client once Genesys has refused its tokens; other clients and known tokens are unaffected', async () => {
    const s = await suite.service({ INTERNAL_AUTH: 'jwt,genesys-agent', AGENT_TOKEN_REFUSALS_PER_MIN: '3', TRUSTED_PROXY_CIDRS: '127.0.0.1/32' });
    const from = (client: string, token: string) => s.get(`/v1/customers/${DEMO.healthy}`, { ...bearer(token), 'x-forwarded-for': client });
    const tokensMe = () => suite.sims.genesys.callCount('tokensMe');
    const agent = suite.sims.genesys.issueAgentToken();
    expect((await from('198.51.100.7', agent)).status).toBe(200);
    const before = tokensMe();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await from('198.51.100.7', randomBytes(24).toString('base64url'))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    expect(tokensMe() - before).toBe(3);
    // a burst at once is bounded as well
    const burst = await Promise.all(Array.from({ length: 10 }, () => from('198.51.100.8', randomBytes(24).toString('base64url'))));
    expect(burst.filter((r) => r.status === 401)).toHaveLength(3);
    expect(tokensMe() - before).toBe(6);
    // the known agent token still works from the refused address; another client is asked about
    expect((await from('198.51.100.7', agent)).status).toBe(200);
    expect((await from('198.51.100.9', randomBytes(24).toString('base64url'))).status).toBe(401);
    expect(tokensMe() - before).toBe(7);
  });
});

// ---------------------------------------------------------------------------------------------
// The classes that held in the review: kept here so that they keep holding.
// ---------------------------------------------------------------------------------------------

describe('held: forged and confused tokens', () => {
  let jwksHits = 0;
  let attacker: Server;
  let attackerUrl = '';
  let attackerKey: CryptoKey;
  let attackerJwk: JWK;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    attackerKey = pair.privateKey;
    attackerJwk = { ...(await exportJWK(pair.publicKey)), kid: 'attacker', alg: 'ES256', use: 'sig' };
    attacker = createServer((_req, res) => {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attackerJwk] }));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
  });

  const claims = () => ({ iss: 'customer360', aud: 'customer360', scope: 'customer:read customer:write genesys:action', iat: now(), exp: now() + 300 });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('refuses alg none, HMAC keyed with our public key, foreign keys named by kid, jku, x5u or an embedded jwk', async () => {
    const s = await secured();
    const ours = ((await s.get('/.well-known/jwks.json')).body as { keys: JWK[] }).keys[0];
    const hs256 = (secret: string | Buffer) => {
      const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: ours.kid })}.${b64(claims())}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    const foreign = (header: Record<string, unknown>) => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', ...header } as { alg: string }).sign(attackerKey);
    const forged: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`,
      'alg None with a signature': `${b64({ alg: 'None' })}.${b64(claims())}.${randomBytes(32).toString('base64url')}`,
      'HS256 keyed with our public JWK': hs256(JSON.stringify(ours)),
      'HS256 keyed with our public x coordinate': hs256(Buffer.from(ours.x ?? '', 'base64url')),
      'our kid, a foreign key': await foreign({ kid: ours.kid }),
      'a kid path': await foreign({ kid: '../../../../dev/null' }),
      'a kid injection': await foreign({ kid: "' OR '1'='1" }),
      'a jku to the attacker': await foreign({ kid: 'attacker', jku: attackerUrl }),
      'an x5u to the attacker': await foreign({ kid: 'attacker', x5u: attackerUrl }),
      'an embedded jwk': await foreign({ jwk: attackerJwk }),
    };
    for (const [what, token] of Object.entries(forged)) {
      for (const res of [await s.get(`/v1/customers/${DEMO.healthy}`, bearer(token)), await s.post(ACTION, { customerId: DEMO.healthy }, bearer(token))]) {
        expect(res.status, what).toBe(401);
        expect(res.text).toBe('{"error":"Invalid Signature"}');
      }
    }
    expect(jwksHits, 'the service never fetches keys a token names').toBe(0);
    expect(crmCalls()).toBe(0);
  });

  it('keeps scopes apart: a read token cannot write, a Genesys token cannot read /v1, an agent scope string cannot be smuggled', async () => {
    const s = await secured();
    const read = await issued(s, 'customer:read');
    const action = await issued(s, 'genesys:action');
    const write = (token: string) => patch(s, `/v1/customers/${DEMO.healthy}/billing`, '{"paymentTerms":"NT30"}', bearer(token));
    expect((await write(read)).status).toBe(403);
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(action))).status).toBe(403);
    expect((await s.post(ACTION, { customerId: DEMO.healthy }, bearer(read))).status).toBe(403);
    for (const scope of [['customer:read customer:write'], 'customer:read,customer:write', 'customer:writes', 'CUSTOMER:WRITE', 'customer:write\u0000']) {
      const token = await signedWithOurKey(s, { scope, iat: now(), exp: now() + 300 });
      expect((await write(token)).status, JSON.stringify(scope)).toBe(403);
    }
    const otherAudience = await signedWithOurKey(s, { aud: 'another-service', iat: now(), exp: now() + 300 });
    const otherIssuer = await signedWithOurKey(s, { iss: 'someone-else', iat: now(), exp: now() + 300 });
    for (const token of [otherAudience, otherIssuer]) expect((await s.get(`/v1/customers/${DEMO.healthy}`, bearer(token))).status).toBe(401);
    expect(suite.sims.sap.requests('updateCustomer')).toHaveLength(0);
  });
});

describe('held: query injection into the three CRMs', () => {
  it('refuses hostile customer numbers before any CRM is called', async () => {
    const s = await suite.service();
    const hostile = ["0010100001' OR '1'='1", "0010100001') or ('1'='1", '0010100001^ORactive=true', '0010100001^NQsys_id!=x', '0010100001 or Customer ne \'\'', '0010100001%27', '*', '0010100001\u0000'];
    for (const id of hostile) {
      expect((await s.get(`/v1/customers/${encodeURIComponent(id)}`)).status, id).toBe(400);
      expect((await s.post(ACTION, { customerId: id })).status, id).toBe(400);
    }
    expect(crmCalls()).toBe(0);
  });

  it('sends free text to Salesforce only as escaped literals (SOQL and SOSL)', async () => {
    const s = await suite.service();
    expect((await s.get(`/v1/customers?email=${encodeURIComponent("o'brien@example.com")}`)).status).toBe(404);
    expect((await s.get(`/v1/customers?email=${encodeURIComponent("x@y.co' OR Name LIKE '%")}`)).status).toBe(400);
    expect(suite.sims.salesforce.requests('query').map((r) => r.query.q)).toEqual([expect.stringContaining("Email__c = 'o\\'brien@example.com'")]);
    expect([400, 404, 200]).toContain((await s.get(`/v1/customers?phone=${encodeURIComponent('+1415555} RETURNING User(Id')}`)).status);
    for (const r of suite.sims.salesforce.requests('search')) expect(r.query.q).toMatch(/^FIND \{\\\+\d+\} IN PHONE FIELDS RETURNING Account\(/);
  });
});

describe('held: X-Forwarded-For spoofing', () => {
  it('an untrusted peer cannot pick its address: not for the throttle, not for the Genesys allowlist', async () => {
    const throttled = await suite.service({ THROTTLE_LIMIT: '2', THROTTLE_TTL_MS: throttleWindowMs() });
    const statuses: number[] = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) statuses.push((await throttled.get(`/v1/customers/${DEMO.healthy}`, { 'x-forwarded-for': client })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const direct = await suite.service({ GENESYS_ALLOWED_CIDRS: '10.0.0.0/8' });
    expect((await direct.post(ACTION, { customerId: DEMO.healthy }, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(403);
    const viaProxy = await suite.service({ GENESYS_ALLOWED_CIDRS: '10.0.0.0/8', TRUSTED_PROXY_CIDRS: '127.0.0.1/32' });
    // behind a trusted proxy, the client-supplied left part of the chain is not believed either
    expect((await viaProxy.post(ACTION, { customerId: DEMO.healthy }, { 'x-forwarded-for': '10.1.2.3, 192.0.2.7' })).status).toBe(403);
    expect((await viaProxy.post(ACTION, { customerId: DEMO.healthy }, { 'x-forwarded-for': '192.0.2.7, 10.1.2.3' })).status).toBe(200);
  });
});
