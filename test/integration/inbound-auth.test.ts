import { generateKeyPairSync } from 'node:crypto';

import { decodeJwt, decodeProtectedHeader, importPKCS8,SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { loadConfig } from '../../src/app.config.js';
import { signatureHeader } from '../../src/auth/signature.js';
import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { startService, type TestService } from '../support/test-app.js';

const ORG = '7a1d1f4c-2c8e-4c55-9d44-2b1a6b9f0c01';
const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY_OLD = newKey();
const KEY_NEW = newKey();
const ACTION = '/genesys/v1/customer-lookup';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

let sims: Simulators;
let s: TestService;

beforeAll(async () => {
  sims = await startSimulators();
  s = await startService({
    sims,
    env: { GENESYS_AUTH: 'jwt,apikey,hmac', INTERNAL_AUTH: 'jwt', GENESYS_REQUIRE_ORG: 'true', JWT_SIGNING_KEY: KEY_NEW, JWT_SIGNING_KEY_PREVIOUS: KEY_OLD, TOKEN_CLIENT_SCOPES: 'genesys:action,customer:read' },
  });
});
afterAll(async () => {
  await s.close();
  await stopSimulators(sims);
});

async function token(clientId: string = SANDBOX_INBOUND.clientId, secret: string = SANDBOX_INBOUND.clientSecret): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${s.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }) });
  return { status: res.status, body: await res.json() };
}

const genesysHeaders = (extra: Record<string, string>) => ({ 'inin-organization-id': ORG, ...extra });

describe('token endpoint for Genesys User Defined (OAuth)', () => {
  it('issues a short-lived JWT signed with the current key, listed in the JWKS with the previous one', async () => {
    const issued = await token();
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'genesys:action customer:read' });
    const claims = decodeJwt(issued.body.access_token);
    expect(claims).toMatchObject({ iss: 'customer360', aud: 'customer360', sub: SANDBOX_INBOUND.clientId });
    const jwks = (await s.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    expect(decodeProtectedHeader(issued.body.access_token).kid).toBe(jwks.keys[0].kid);
  });

  it('accepts client credentials in a Basic header (what a Genesys Custom Auth action can send)', async () => {
    const res = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${SANDBOX_INBOUND.clientId}:${SANDBOX_INBOUND.clientSecret}`).toString('base64')}` },
      body: form({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(200);
  });

  it('refuses wrong credentials and other grants the OAuth way', async () => {
    expect(await token(SANDBOX_INBOUND.clientId, 'wrong-secret-wrong-secret')).toEqual({ status: 401, body: { error: 'invalid_client' } });
    const grant = await fetch(`${s.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'password' }) });
    expect(grant.status).toBe(400);
  });

  it('narrows a token to the scopes asked for (a read-only token for the side panel) and refuses more', async () => {
    const ask = (scope: string) =>
      fetch(`${s.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'client_credentials', client_id: SANDBOX_INBOUND.clientId, client_secret: SANDBOX_INBOUND.clientSecret, scope }) });
    const narrowed = await ask('customer:read');
    expect(narrowed.status).toBe(200);
    const body = (await narrowed.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('customer:read');
    expect(decodeJwt(body.access_token).scope).toBe('customer:read');
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, { authorization: `Bearer ${body.access_token}` })).status).toBe(200);
    expect((await s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders({ authorization: `Bearer ${body.access_token}` }))).status).toBe(403);
    const wider = await ask('customer:read customer:write');
    expect(wider.status).toBe(400);
    expect(await wider.json()).toEqual({ error: 'invalid_scope' });
  });
});

describe('Genesys-facing endpoint', () => {
  it('accepts our Bearer token, the API key, or a valid HMAC signature', async () => {
    const { body } = await token();
    expect((await s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders({ authorization: `Bearer ${body.access_token}` }))).status).toBe(200);
    expect((await s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders({ 'x-api-key': SANDBOX_INBOUND.apiKey }))).status).toBe(200);
    const raw = JSON.stringify({ customerId: DEMO.healthy });
    const signed = await s.post(ACTION, raw, genesysHeaders({ 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), raw) }));
    expect(signed.status).toBe(200);
  });

  it('accepts a token signed with the previous key during a rotation', async () => {
    const previousKid = ((await s.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string }> }).keys[1].kid;
    const old = await new SignJWT({ scope: 'genesys:action' }).setProtectedHeader({ alg: 'ES256', kid: previousKid }).setIssuer('customer360').setAudience('customer360').setExpirationTime('5m').sign(await importPKCS8(KEY_OLD, 'ES256'));
    expect((await s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders({ authorization: `Bearer ${old}` }))).status).toBe(200);
  });

  const refused: Array<[string, () => Promise<Record<string, string>>]> = [
    ['no credentials', async () => ({})],
    ['a wrong API key', async () => ({ 'x-api-key': `${SANDBOX_INBOUND.apiKey.slice(0, -1)}X` })],
    ['an oversized API key', async () => ({ 'x-api-key': 'k'.repeat(8000) })],
    ['a token signed by someone else', async () => ({ authorization: `Bearer ${await new SignJWT({ scope: 'genesys:action' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('customer360').setAudience('customer360').setExpirationTime('5m').sign(await importPKCS8(newKey(), 'ES256'))}` })],
    ['an expired token', async () => ({ authorization: `Bearer ${await new SignJWT({ scope: 'genesys:action' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('customer360').setAudience('customer360').setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(await importPKCS8(KEY_NEW, 'ES256'))}` })],
    ['a tampered token', async () => {
      const t = (await token()).body.access_token as string;
      const [h, p, sig] = t.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      return { authorization: `Bearer ${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${sig}` };
    }],
    ['an unsigned (alg none) token', async () => ({ authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"scope":"genesys:action","iss":"customer360","aud":"customer360"}').toString('base64url')}.` })],
    ['an HMAC signature over another body', async () => ({ 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), '{"customerId":"0010100002"}') })],
  ];
  for (const [name, headers] of refused) {
    it(`refuses ${name} with a plain 401`, async () => {
      const res = await s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders(await headers()));
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"error":"Invalid Signature"}');
    });
  }

  it('refuses a replayed HMAC-signed call', async () => {
    const raw = JSON.stringify({ customerId: DEMO.manyTickets });
    const headers = genesysHeaders({ 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, Math.floor(Date.now() / 1000), raw) });
    expect((await s.post(ACTION, raw, headers)).status).toBe(200);
    expect((await s.post(ACTION, raw, headers)).status).toBe(401);
  });

  it('refuses another organization with a plain 403, even with a valid key', async () => {
    const res = await s.post(ACTION, { customerId: DEMO.healthy }, { 'inin-organization-id': 'another-org', 'x-api-key': SANDBOX_INBOUND.apiKey });
    expect(res.status).toBe(403);
    expect(res.text).toBe('{"error":"Forbidden"}');
  });
});

describe('internal API', () => {
  it('needs a Bearer token with the route scope: read allowed, billing write refused with 403', async () => {
    const { body } = await token();
    const auth = { authorization: `Bearer ${body.access_token}` };
    expect((await s.get(`/v1/customers/${DEMO.healthy}`)).status).toBe(401);
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, { 'x-api-key': SANDBOX_INBOUND.apiKey })).status).toBe(401);
    expect((await s.get(`/v1/customers/${DEMO.healthy}`, auth)).status).toBe(200);
    const write = await fetch(`${s.url}/v1/customers/${DEMO.healthy}/billing`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: '{"paymentTerms":"NT30"}' });
    expect(write.status).toBe(403);
    expect(sims.sap.requests('updateCustomer')).toHaveLength(0);
  });

  it('keeps health and the JWKS public', async () => {
    expect((await s.get('/health/ready')).status).toBe(200);
    expect((await s.get('/.well-known/jwks.json')).status).toBe(200);
  });
});

describe('production settings', () => {
  it('refuses to start with authentication switched off', () => {
    const env = sandboxEnv(sims, { NODE_ENV: 'production', GENESYS_AUTH: 'none', INTERNAL_AUTH: 'none', JWT_SIGNING_KEY: KEY_NEW });
    expect(() => loadConfig(env)).toThrow(/GENESYS_AUTH must not include none when NODE_ENV=production; INTERNAL_AUTH must not be none/);
  });

  it('never logs the API key, client secret or signing key', async () => {
    await s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders({ 'x-api-key': SANDBOX_INBOUND.apiKey }));
    await token(SANDBOX_INBOUND.clientId, SANDBOX_INBOUND.clientSecret);
    const logs = s.logs.join('');
    for (const secret of [SANDBOX_INBOUND.apiKey, SANDBOX_INBOUND.clientSecret, SANDBOX_INBOUND.webhookSecret, KEY_NEW.split('\n')[1]]) expect(logs).not.toContain(secret);
  });
});

describe('verified tokens are remembered, but never past their expiry', () => {
  it('accepts a token until it expires, then refuses it although it was accepted before', async () => {
    const now = Math.floor(Date.now() / 1000);
    const kid = ((await s.get('/.well-known/jwks.json')).body as { keys: Array<{ kid: string }> }).keys[0].kid;
    const shortLived = await new SignJWT({ scope: 'genesys:action' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('customer360').setAudience('customer360').setIssuedAt(now).setExpirationTime(now + 20).sign(await importPKCS8(KEY_NEW, 'ES256'));
    const call = () => s.post(ACTION, { customerId: DEMO.healthy }, genesysHeaders({ authorization: `Bearer ${shortLived}` }));
    const answers = await Promise.all([call(), call(), call()]); // a burst with one new token
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 30_000); // past exp (and the 5 s clock tolerance)
      expect((await call()).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });
});
