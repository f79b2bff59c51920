/**
 * The side panel's production credential: an agent's own Genesys Cloud access token (from the
 * PKCE sign-in), opaque, verified by asking Genesys (`GET /api/v2/tokens/me` with it) and accepted
 * for /v1 reads only when its organization is GENESYS_ORG_ID and its OAuth client the panel's.
 * Real service, real simulator over HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/app.config.js';
import { DEMO_CONVERSATION } from '../sandbox/genesys/genesys.data.js';
import { SANDBOX_CREDENTIALS, SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { startService, type TestService } from '../support/test-app.js';

const CREDS = SANDBOX_CREDENTIALS.genesys;
const OTHER_ORG = '0b0e0e0f-1111-4222-8333-444455556666';
const CUSTOMER = `/v1/customers/${DEMO.healthy}`;

let sims: Simulators;
let s: TestService;
/** Every token the tests used: none may ever show up in a log line. */
const used: string[] = [];

beforeAll(async () => {
  sims = await startSimulators();
  s = await startService({ sims, env: { INTERNAL_AUTH: 'jwt,genesys-agent', WIDGET_OAUTH_CLIENT_ID: CREDS.panelClientId } });
  sims.genesys.allowRedirectUri(`${s.url}/widget`);
});
afterAll(async () => {
  await s.close();
  await stopSimulators(sims);
});
afterEach(() => sims.genesys.resetFaults());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const tokensMe = () => sims.genesys.callCount('tokensMe');

/** A token of the demo agent, through the panel's client, in the demo org (the simulator's shortcut) — or of another org or client. */
function agentToken(owner: { orgId?: string; clientId?: string } = {}): string {
  const token = sims.genesys.issueAgentToken(owner);
  used.push(token);
  return token;
}

/** The whole PKCE round trip against the simulated login host, as the panel's page does it. */
async function signIn(): Promise<{ token: string; code: string; verifier: string }> {
  const verifier = randomBytes(48).toString('base64url');
  const redirectUri = `${s.url}/widget`;
  const query = new URLSearchParams({
    client_id: CREDS.panelClientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'state-1',
  });
  const authorized = await fetch(`${sims.genesys.url}/oauth/authorize?${query.toString()}`, { redirect: 'manual' });
  const code = new URL(authorized.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const res = await fetch(`${sims.genesys.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CREDS.panelClientId, code_verifier: verifier }).toString(),
  });
  expect(res.status).toBe(200);
  const token = ((await res.json()) as { access_token: string }).access_token;
  used.push(token, code, verifier);
  return { token, code, verifier };
}

describe('an agent token (genesys-agent)', () => {
  it('signed in with PKCE, reads a customer and the caller of a conversation; Genesys is asked once, then the verdict is cached', async () => {
    const { token } = await signIn();
    const before = tokensMe();
    const first = await s.get(CUSTOMER, bearer(token));
    expect(first.status).toBe(200);
    expect(first.body.customerId).toBe(DEMO.healthy);
    expect(tokensMe()).toBe(before + 1);

    expect((await s.get(CUSTOMER, bearer(token))).status).toBe(200);
    expect((await s.get(`/v1/conversations/${DEMO_CONVERSATION.healthyCaller}/customer`, bearer(token))).status).toBe(200);
    expect(tokensMe()).toBe(before + 1);
  });

  it('is refused with a plain 403 when it belongs to another organization or another OAuth client of ours', async () => {
    for (const owner of [{ orgId: OTHER_ORG }, { clientId: 'another-app-of-our-org' }]) {
      const res = await s.get(CUSTOMER, bearer(agentToken(owner)));
      expect(res.status).toBe(403);
      expect(res.text).toBe('{"error":"Forbidden"}');
    }
  });

  it('is refused with a plain 401 when Genesys does not know it, and that verdict is cached too', async () => {
    const unknown = 'x9Yp4Q-unknown-genesys-token-0123456789';
    used.push(unknown);
    const before = tokensMe();
    for (let i = 0; i < 2; i++) {
      const res = await s.get(CUSTOMER, bearer(unknown));
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"error":"Invalid Signature"}');
    }
    expect(tokensMe()).toBe(before + 1);
  });

  it('carries customer:read only: a billing write is 403 and never reaches SAP', async () => {
    const res = await fetch(`${s.url}/v1/customers/${DEMO.healthy}/billing`, { method: 'PATCH', headers: { ...bearer(agentToken()), 'content-type': 'application/json' }, body: '{"paymentTerms":"NT30"}' });
    expect(res.status).toBe(403);
    expect(sims.sap.requests('updateCustomer')).toHaveLength(0);
  });

  it.each([
    ['answers 503', { forcedStatus: 503 }],
    ['answers 500', { forcedStatus: 500 }],
    ['drops the connection', { resetRate: 1 }],
    ['rate-limits the token', { rateLimitPerSecond: 0 }],
    ['sends a broken body', { malformed: 'invalid-json' as const }],
  ])('answers 503 (never 500, never 401) when Genesys %s, and caches nothing', async (_what, fault) => {
    const token = agentToken();
    sims.genesys.setFaults({ ...fault, only: ['tokensMe'] });
    const res = await s.get(CUSTOMER, bearer(token));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(typeof res.body.correlationId).toBe('string');

    sims.genesys.resetFaults();
    expect((await s.get(CUSTOMER, bearer(token))).status).toBe(200);
  });

  it("keeps the kinds apart: our JWT is verified by us and never sent to Genesys; a malformed JWT is a 401 without asking Genesys", async () => {
    const issued = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SANDBOX_INBOUND.clientId, client_secret: SANDBOX_INBOUND.clientSecret, scope: 'customer:read' }).toString(),
    });
    const jwt = ((await issued.json()) as { access_token: string }).access_token;
    used.push(jwt);
    const before = tokensMe();
    expect((await s.get(CUSTOMER, bearer(jwt))).status).toBe(200);
    const forged = `${jwt.split('.').slice(0, 2).join('.')}.${randomBytes(64).toString('base64url')}`;
    expect((await s.get(CUSTOMER, bearer(forged))).status).toBe(401);
    expect((await s.get(CUSTOMER, bearer('a b'))).status).toBe(401);
    expect(tokensMe()).toBe(before);
  });

  it('never writes a token, code or verifier to the logs, and says when Genesys could not verify one', async () => {
    // its own secrets, each through a path that logs: accepted, refused by org, unknown, unverifiable
    const { token, code, verifier } = await signIn();
    expect((await s.get(CUSTOMER, bearer(token))).status).toBe(200);
    const foreign = agentToken({ orgId: OTHER_ORG });
    expect((await s.get(CUSTOMER, bearer(foreign))).status).toBe(403);
    const unknown = 'q7Zr2W-never-issued-token-9876543210';
    expect((await s.get(CUSTOMER, bearer(unknown))).status).toBe(401);
    sims.genesys.setFaults({ forcedStatus: 503, only: ['tokensMe'] });
    const unverifiable = agentToken();
    expect((await s.get(CUSTOMER, bearer(unverifiable))).status).toBe(503);
    const logs = s.logs.join('');
    expect(logs).toContain('Genesys Cloud could not verify an agent token');
    // these, and every token the other tests of this file used
    for (const secret of new Set([token, code, verifier, foreign, unknown, unverifiable, ...used])) expect(logs).not.toContain(secret);
  });
});

describe('configuration', () => {
  it('needs GENESYS_ORG_ID for genesys-agent, and genesys-agent for WIDGET_OAUTH_CLIENT_ID', () => {
    expect(() => loadConfig(sandboxEnv(sims, { INTERNAL_AUTH: 'jwt,genesys-agent', GENESYS_ORG_ID: '' }))).toThrow(/INTERNAL_AUTH genesys-agent needs GENESYS_ORG_ID/);
    expect(() => loadConfig(sandboxEnv(sims, { INTERNAL_AUTH: 'jwt', WIDGET_OAUTH_CLIENT_ID: CREDS.panelClientId }))).toThrow(/WIDGET_OAUTH_CLIENT_ID needs genesys-agent in INTERNAL_AUTH/);
    expect(() => loadConfig(sandboxEnv(sims, { INTERNAL_AUTH: 'jwt,agent' }))).toThrow(/INTERNAL_AUTH entries must be among: jwt, genesys-agent, none/);
    expect(loadConfig(sandboxEnv(sims, { INTERNAL_AUTH: 'genesys-agent,jwt', WIDGET_OAUTH_CLIENT_ID: CREDS.panelClientId })).auth.internalAuth).toEqual(['genesys-agent', 'jwt']);
  });
});
