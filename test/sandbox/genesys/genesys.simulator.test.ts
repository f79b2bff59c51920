import { createHash, randomBytes } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, demoCustomer } from '../shared/seed.js';
import { DEMO_AGENT, DEMO_CONVERSATION } from './genesys.data.js';
import { GenesysSimulator } from './genesys.simulator.js';

const CREDS = SANDBOX_CREDENTIALS.genesys;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

let clock = Date.UTC(2026, 10, 20, 9, 0, 10, 500);
const sim = new GenesysSimulator({ now: () => clock });

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
  clock = Date.UTC(2026, 10, 20, 9, 0, 10, 500);
});

function tokenRequest(auth: string | null, form = 'grant_type=client_credentials'): Promise<Response> {
  return fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: form,
  });
}

async function accessToken(): Promise<string> {
  const res = await tokenRequest(basic(CREDS.clientId, CREDS.clientSecret));
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function createCall(token: string | null, body: unknown): Promise<Response> {
  return fetch(`${sim.url}/api/v2/conversations/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function expectGenesysError(body: Record<string, unknown>, status: number, code: string): void {
  expect(body).toMatchObject({ status, code, messageParams: {}, details: [], errors: [] });
  expect(typeof body.message).toBe('string');
  expect(body.contextId).toMatch(UUID);
}

describe('OAuth client credentials (login host)', () => {
  it('issues a bearer token for Basic client credentials with expires_in 86399', async () => {
    const res = await tokenRequest(basic(CREDS.clientId, CREDS.clientSecret));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(86399);
    expect(typeof body.access_token).toBe('string');
    expect(sim.callCount('token')).toBe(1);
  });

  it('reports a shortened lifetime when faults.tokenTtlMs is set', async () => {
    sim.setFaults({ tokenTtlMs: 90_500 });
    const res = await tokenRequest(basic(CREDS.clientId, CREDS.clientSecret));
    expect(((await res.json()) as { expires_in: number }).expires_in).toBe(91);
  });

  it('honours a configured client lifetime', async () => {
    const short = new GenesysSimulator({ tokenLifetimeSeconds: 300 });
    await short.start();
    try {
      const res = await fetch(`${short.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic(CREDS.clientId, CREDS.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(((await res.json()) as { expires_in: number }).expires_in).toBe(300);
    } finally {
      await short.stop();
    }
  });

  it('refuses wrong or missing client credentials with 401 invalid_client', async () => {
    for (const auth of [basic(CREDS.clientId, 'wrong'), basic('someone-else', CREDS.clientSecret), null]) {
      const res = await tokenRequest(auth);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: 'invalid_client',
        description: 'Invalid client credentials',
        error_description: 'Invalid client credentials',
      });
    }
  });

  it('refuses another grant type with 400 unsupported_grant_type', async () => {
    const res = await tokenRequest(basic(CREDS.clientId, CREDS.clientSecret), 'grant_type=password&username=a&password=b');
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe('unsupported_grant_type');
    expect(typeof body.error_description).toBe('string');
  });
});

describe('PKCE sign-in (Code Authorization grant of a public client, as the side panel uses it)', () => {
  const PANEL = 'https://customer360.example.com/widget';
  const PANEL_ORIGIN = 'https://customer360.example.com';
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  beforeEach(() => sim.allowRedirectUri(PANEL));

  function authorize(params: Record<string, string>): Promise<Response> {
    const query = new URLSearchParams({ client_id: CREDS.panelClientId, response_type: 'code', redirect_uri: PANEL, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1', ...params });
    for (const [k, v] of Object.entries(params)) if (v === '') query.delete(k);
    return fetch(`${sim.url}/oauth/authorize?${query.toString()}`, { redirect: 'manual' });
  }

  async function code(): Promise<string> {
    const res = await authorize({});
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
  }

  function exchange(fields: Record<string, string>, origin = PANEL_ORIGIN): Promise<Response> {
    return fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CREDS.panelClientId, redirect_uri: PANEL, code_verifier: verifier, ...fields }).toString(),
    });
  }

  it('approves at once as the demo agent: 302 to redirect_uri?code=…&state=…', async () => {
    const res = await authorize({});
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(PANEL);
    expect([...location.searchParams.keys()].sort()).toEqual(['code', 'state']);
    expect(location.searchParams.get('state')).toBe('st-1');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(sim.callCount('authorize')).toBe(1);
  });

  it('refuses an unknown client or an unregistered redirect URI with 400, without redirecting', async () => {
    for (const params of [{ client_id: 'someone-else' }, { redirect_uri: 'https://evil.example.com/widget' }, { redirect_uri: `${PANEL}/` }] as Array<Record<string, string>>) {
      const res = await authorize(params);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: 'OAuth client ID or redirect URI is invalid' });
    }
  });

  it('redirects back with error=invalid_request without an S256 code challenge, and unsupported_response_type for a token request', async () => {
    for (const params of [{ code_challenge_method: 'plain' }, { code_challenge_method: '' }, { code_challenge: '' }, { code_challenge: 'short' }] as Array<Record<string, string>>) {
      const res = await authorize(params);
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location') ?? '').searchParams;
      expect(back.get('error')).toBe('invalid_request');
      expect(back.get('state')).toBe('st-1');
      expect(back.get('code')).toBeNull();
    }
    const implicit = new URL((await authorize({ response_type: 'token' })).headers.get('location') ?? '').searchParams;
    expect(implicit.get('error')).toBe('unsupported_response_type');
  });

  it('exchanges the code with the verifier for a bearer token (the token JSON of every grant), once', async () => {
    const c = await code();
    const res = await exchange({ code: c });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 86399 });
    const again = await exchange({ code: c });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a wrong verifier, another redirect_uri, an expired code and an unknown client', async () => {
    const wrong = await exchange({ code: await code(), code_verifier: randomBytes(48).toString('base64url') });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: 'invalid_grant', description: 'Code verification failed', error_description: 'Code verification failed' });
    expect((await exchange({ code: await code(), redirect_uri: 'https://customer360.example.com/other' })).status).toBe(400);
    const old = await code();
    clock += 5 * 60_000;
    expect(await (await exchange({ code: old })).json()).toMatchObject({ error: 'invalid_grant' });
    const stranger = await exchange({ code: await code(), client_id: 'someone-else' });
    expect(stranger.status).toBe(401);
    expect(await stranger.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('lets the panel origin read the answer (CORS, errors included, and a preflight), no other origin', async () => {
    const ok = await exchange({ code: await code() });
    expect(ok.headers.get('access-control-allow-origin')).toBe(PANEL_ORIGIN);
    expect(ok.headers.get('vary')).toBe('Origin');
    const failed = await exchange({ code: 'nope' });
    expect(failed.headers.get('access-control-allow-origin')).toBe(PANEL_ORIGIN);
    const foreign = await exchange({ code: await code() }, 'https://evil.example.com');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${sim.url}/oauth/token`, { method: 'OPTIONS', headers: { origin: PANEL_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(PANEL_ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    // the Platform API itself sends none
    expect((await fetch(`${sim.url}/api/v2/ipranges`, { headers: { origin: PANEL_ORIGIN } })).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('GET /api/v2/tokens/me', () => {
  const me = (token: string | null) => fetch(`${sim.url}/api/v2/tokens/me`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("describes an agent token: the organization, home organization, OAuth client and when it idles", async () => {
    const res = await me(sim.issueAgentToken());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(Object.keys(body).sort()).toEqual(['OAuthClient', 'authorizedScope', 'dateTokenIdles', 'homeOrganization', 'organization']);
    expect(body.organization).toEqual({ id: CREDS.orgId, name: DEMO_AGENT.organizationName });
    expect(body.homeOrganization).toEqual(body.organization);
    expect(body.OAuthClient).toMatchObject({ id: CREDS.panelClientId, authorizedGrantType: 'CODE', state: 'active', organization: body.organization });
    expect(Array.isArray(body.authorizedScope)).toBe(true);
    expect(body.dateTokenIdles).toBe(new Date(clock + 86_399_000).toISOString());
  });

  it('tells the organization and client a token really belongs to (another org, a client-credentials token)', async () => {
    const other = (await (await me(sim.issueAgentToken({ orgId: '0b0e0e0f-1111-4222-8333-444455556666' }))).json()) as { organization: { id: string } };
    expect(other.organization.id).toBe('0b0e0e0f-1111-4222-8333-444455556666');
    const service = (await (await me(await accessToken())).json()) as { OAuthClient: { id: string; authorizedGrantType: string } };
    expect(service.OAuthClient).toMatchObject({ id: CREDS.clientId, authorizedGrantType: 'CLIENT-CREDENTIALS' });
  });

  it('answers an unknown, missing or expired token with 401 authentication.required', async () => {
    const token = sim.issueAgentToken();
    for (const t of ['made-up-token', null]) {
      const res = await me(t);
      expect(res.status).toBe(401);
      expectGenesysError((await res.json()) as Record<string, unknown>, 401, 'authentication.required');
    }
    clock += 86_399_000;
    const expired = await me(token);
    expect(expired.status).toBe(401);
    expectGenesysError((await expired.json()) as Record<string, unknown>, 401, 'authentication.required');
  });
});

describe('GET /api/v2/ipranges', () => {
  it('lists CIDRs without authentication, including IPv6 and the loopback data-actions entry', async () => {
    const res = await fetch(`${sim.url}/api/v2/ipranges`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entities: Array<Record<string, unknown>> };
    expect(Object.keys(body)).toEqual(['entities']);
    expect(body.entities.length).toBeGreaterThan(3);
    for (const e of body.entities) {
      expect(Object.keys(e).sort()).toEqual(['cidr', 'direction', 'region', 'service']);
      expect(['inbound', 'outbound']).toContain(e.direction);
    }
    expect(body.entities).toContainEqual({ cidr: '52.129.96.0/20', service: 'data-actions', region: 'us-east-1', direction: 'outbound' });
    expect(body.entities.some((e) => String(e.cidr).includes(':') && e.service === 'data-actions')).toBe(true);
    expect(body.entities).toContainEqual(expect.objectContaining({ cidr: '127.0.0.1/32', service: 'data-actions', direction: 'outbound' }));
    expect(sim.callCount('ipranges')).toBe(1);
  });
});

describe('POST /api/v2/conversations/calls', () => {
  it('places a call with a valid token: 200 CreateCallResponse {id, selfUri} and records it', async () => {
    const token = await accessToken();
    const res = await createCall(token, { phoneNumber: '+14155550100', callFromQueueId: 'queue-1' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['id', 'selfUri']);
    expect(body.id).toMatch(UUID);
    expect(body.selfUri).toBe(`/api/v2/conversations/calls/${String(body.id)}`);
    expect(sim.placedCalls).toEqual([
      {
        conversationId: body.id,
        phoneNumber: '+14155550100',
        callFromQueueId: 'queue-1',
        body: { phoneNumber: '+14155550100', callFromQueueId: 'queue-1' },
        at: clock,
      },
    ]);
    expect(sim.callCount('createCall')).toBe(1);
  });

  it('requires phoneNumber (400 bad.request) and a JSON body', async () => {
    const token = await accessToken();
    const missing = await createCall(token, { callUserId: 'u-1' });
    expect(missing.status).toBe(400);
    expectGenesysError((await missing.json()) as Record<string, unknown>, 400, 'bad.request');
    const garbage = await createCall(token, '{not json');
    expect(garbage.status).toBe(400);
    expectGenesysError((await garbage.json()) as Record<string, unknown>, 400, 'bad.request');
    expect(sim.placedCalls).toEqual([]);
  });

  it('refuses a missing or unknown token with 401 authentication.required', async () => {
    for (const token of [null, 'made-up-token']) {
      const res = await createCall(token, { phoneNumber: '+14155550100' });
      expect(res.status).toBe(401);
      const body = (await res.json()) as Record<string, unknown>;
      expectGenesysError(body, 401, 'authentication.required');
      expect(body.message).toBe('Authentication failed');
    }
    expect(sim.placedCalls).toEqual([]);
  });

  it('refuses a token past faults.tokenTtlMs (fake clock)', async () => {
    sim.setFaults({ tokenTtlMs: 5_000 });
    const token = await accessToken();
    clock += 4_999;
    expect((await createCall(token, { phoneNumber: '+14155550100' })).status).toBe(200);
    clock += 1;
    const res = await createCall(token, { phoneNumber: '+14155550100' });
    expect(res.status).toBe(401);
    expectGenesysError((await res.json()) as Record<string, unknown>, 401, 'authentication.required');
  });

  it('refuses a token past its native lifetime and after /__sim/expire-tokens', async () => {
    const token = await accessToken();
    clock += 86_398_000;
    expect((await createCall(token, { phoneNumber: '+14155550100' })).status).toBe(200);
    clock += 1_000;
    expect((await createCall(token, { phoneNumber: '+14155550100' })).status).toBe(401);

    const fresh = await accessToken();
    expect((await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' })).status).toBe(200);
    expect((await createCall(fresh, { phoneNumber: '+14155550100' })).status).toBe(401);
  });
});

describe('GET /api/v2/conversations/{conversationId}', () => {
  const get = (id: string, token: string | null) => fetch(`${sim.url}/api/v2/conversations/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("describes a seeded inbound call: the caller as the customer participant with ani tel:+E164, then IVR, ACD and agent legs", async () => {
    const res = await get(DEMO_CONVERSATION.healthyCaller, await accessToken());
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; selfUri: string; participants: Array<Record<string, unknown>> };
    expect(body.id).toBe(DEMO_CONVERSATION.healthyCaller);
    expect(body.selfUri).toBe(`/api/v2/conversations/${DEMO_CONVERSATION.healthyCaller}`);
    expect(body.participants.map((p) => p.purpose)).toEqual(['customer', 'ivr', 'acd', 'agent']);
    const caller = body.participants[0];
    expect(caller).toMatchObject({ participantType: 'External', ani: `tel:${demoCustomer(DEMO.healthy).phone}`, address: `tel:${demoCustomer(DEMO.healthy).phone}` });
    expect(caller.id).toMatch(UUID);
    expect((caller.calls as Array<Record<string, unknown>>)[0]).toMatchObject({ state: 'connected', direction: 'inbound' });
    expect(body.participants[3]).toMatchObject({ userUri: `/api/v2/users/${body.participants[3].userId as string}` });
  });

  it('knows calls a test adds, needs a token, and answers an unknown id with 404 not.found', async () => {
    const token = await accessToken();
    sim.addConversation({ conversationId: '0f0e0d0c-0b0a-4908-8706-050403020100', ani: 'tel:+4420794600002', dnis: 'tel:+18005550199', startTime: '2026-11-20T09:00:00.000Z' });
    expect(((await (await get('0f0e0d0c-0b0a-4908-8706-050403020100', token)).json()) as { participants: Array<{ ani: string }> }).participants[0].ani).toBe('tel:+4420794600002');
    const anonymous = await get(DEMO_CONVERSATION.healthyCaller, null);
    expect(anonymous.status).toBe(401);
    expectGenesysError((await anonymous.json()) as Record<string, unknown>, 401, 'authentication.required');
    const unknown = await get('11111111-2222-4333-8444-555555555555', token);
    expect(unknown.status).toBe(404);
    expectGenesysError((await unknown.json()) as Record<string, unknown>, 404, 'not.found');
  });
});

describe('headers and faults in Genesys format', () => {
  it('puts inin-correlation-id and inin-ratelimit-* on every response, errors included', async () => {
    const token = await accessToken();
    const ok = await createCall(token, { phoneNumber: '+14155550100' });
    const ok2 = await createCall(token, { phoneNumber: '+14155550101' });
    const unauth = await createCall(null, { phoneNumber: '+14155550100' });
    const ranges = await fetch(`${sim.url}/api/v2/ipranges`);
    for (const res of [ok, ok2, unauth, ranges]) {
      expect(res.headers.get('inin-correlation-id')).toMatch(UUID);
      expect(res.headers.get('inin-ratelimit-allowed')).toBe('300');
      expect(res.headers.get('inin-ratelimit-count')).toMatch(/^\d+$/);
      expect(res.headers.get('inin-ratelimit-reset')).toMatch(/^\d+$/);
    }
    expect(ok.headers.get('inin-correlation-id')).not.toBe(ok2.headers.get('inin-correlation-id'));
    // counted per token within the minute; the clock sits 10.5 s into its minute
    expect(ok.headers.get('inin-ratelimit-count')).toBe('1');
    expect(ok2.headers.get('inin-ratelimit-count')).toBe('2');
    expect(ok.headers.get('inin-ratelimit-reset')).toBe('50');
    // the error body's contextId is the response's correlation id
    const body = (await unauth.json()) as { contextId: string };
    expect(body.contextId).toBe(unauth.headers.get('inin-correlation-id'));
  });

  it('rate limit: 429 with Retry-After and code too.many.requests.retry.after', async () => {
    const token = await accessToken();
    sim.setFaults({ rateLimitPerSecond: 1 });
    expect((await createCall(token, { phoneNumber: '+14155550100' })).status).toBe(200);
    const res = await createCall(token, { phoneNumber: '+14155550100' });
    expect(res.status).toBe(429);
    const retryAfter = res.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    const body = (await res.json()) as Record<string, unknown>;
    expectGenesysError(body, 429, 'too.many.requests.retry.after');
    expect(body.message).toBe(`Rate limit exceeded the maximum. Retry the request in [${retryAfter}] seconds`);
    expect(res.headers.get('inin-correlation-id')).toMatch(UUID);
    expect(sim.placedCalls).toHaveLength(1);
    clock += 1_000;
    expect((await createCall(token, { phoneNumber: '+14155550100' })).status).toBe(200);
  });

  it('forced 503 → service.unavailable in the Genesys error shape', async () => {
    const token = await accessToken();
    sim.setFaults({ forcedStatus: 503, only: ['createCall'] });
    const res = await createCall(token, { phoneNumber: '+14155550100' });
    expect(res.status).toBe(503);
    expectGenesysError((await res.json()) as Record<string, unknown>, 503, 'service.unavailable');
    expect(sim.placedCalls).toEqual([]);
    expect((await fetch(`${sim.url}/api/v2/ipranges`)).status).toBe(200);
  });

  it('forced 500 → internal.server.error', async () => {
    sim.setFaults({ forcedStatus: 500 });
    const res = await fetch(`${sim.url}/api/v2/ipranges`);
    expect(res.status).toBe(500);
    expectGenesysError((await res.json()) as Record<string, unknown>, 500, 'internal.server.error');
  });

  it('unknown paths get 404 not.found in the Genesys shape', async () => {
    const res = await fetch(`${sim.url}/api/v2/users/me`);
    expect(res.status).toBe(404);
    expectGenesysError((await res.json()) as Record<string, unknown>, 404, 'not.found');
  });
});
