/**
 * The Genesys simulator checked by Genesys's own Platform SDK (`purecloud-platform-client-v2`):
 * the SDK logs in and calls the simulator over real HTTP (its gateway setting points it at
 * 127.0.0.1), and every body it returns is checked against the SDK's models (`index.d.ts`).
 */
import platformClient from 'purecloud-platform-client-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, demoCustomer } from '../shared/seed.js';
import { DEMO_CONVERSATION } from './genesys.data.js';
import { GenesysSimulator } from './genesys.simulator.js';
import { modelViolations } from './genesys-models.js';

const { clientId, clientSecret, orgId } = SANDBOX_CREDENTIALS.genesys;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LIFETIME_S = 3600;

const sim = new GenesysSimulator({ tokenLifetimeSeconds: LIFETIME_S });
const client = platformClient.ApiClient.instance;

/** What the SDK rejects with: the error body for an API call, the axios error for a login. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

beforeAll(async () => {
  await sim.start();
  client.config.live_reload_config = false; // no watcher on ~/.genesyscloudjavascript/config
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port: sim.port });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(async () => {
  sim.reset();
  client.clearAccessToken();
  await client.loginClientCredentialsGrant(clientId, clientSecret);
});

describe('ApiClient.loginClientCredentialsGrant', () => {
  it("gets a token the Platform API accepts, expiring after the OAuth client's lifetime", async () => {
    client.clearAccessToken();
    const before = Date.now();
    const auth = await client.loginClientCredentialsGrant(clientId, clientSecret);
    const after = Date.now();
    expect(auth.accessToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(auth.tokenExpiryTime).toBeGreaterThanOrEqual(before + LIFETIME_S * 1000);
    expect(auth.tokenExpiryTime).toBeLessThanOrEqual(after + LIFETIME_S * 1000);
    expect(sim.callCount('token')).toBe(2); // beforeEach's login and this one
    await expect(new platformClient.TokensApi().getTokensMe()).resolves.toMatchObject({ organization: { id: orgId } });
  });

  it('wrong client secret: the SDK rejects with the 401 and no token', async () => {
    client.clearAccessToken();
    const err = (await rejection(client.loginClientCredentialsGrant(clientId, 'wrong'))) as { response?: { status?: number; data?: Record<string, unknown> } };
    expect(err.response?.status).toBe(401);
    expect(err.response?.data).toMatchObject({ error: 'invalid_client' });
  });
});

describe('Platform API calls parsed by the SDK, bodies checked against its models', () => {
  it('UtilitiesApi.getIpranges → IpAddressRangeListing', async () => {
    const listing = await new platformClient.UtilitiesApi().getIpranges();
    expect(modelViolations('IpAddressRangeListing', listing)).toEqual([]);
    expect(listing.entities).toContainEqual({ cidr: '127.0.0.1/32', service: 'data-actions', region: 'us-east-1', direction: 'outbound' });
  });

  it('ConversationsApi.postConversationsCalls → CreateCallResponse: `id` is the new conversation', async () => {
    const body: platformClient.Models.CreateCallRequest = { phoneNumber: '+14155550100' };
    const created = await new platformClient.ConversationsApi().postConversationsCalls(body);
    expect(modelViolations('CreateCallResponse', created)).toEqual([]);
    expect(created.id).toMatch(UUID);
    expect(created.selfUri).toBe(`/api/v2/conversations/calls/${created.id}`);
    expect(sim.placedCalls).toEqual([expect.objectContaining({ conversationId: created.id, phoneNumber: '+14155550100' })]);
  });

  it('ConversationsApi.getConversation → Conversation, the caller a participant with purpose "customer"', async () => {
    const conversation = await new platformClient.ConversationsApi().getConversation(DEMO_CONVERSATION.healthyCaller);
    expect(modelViolations('Conversation', conversation)).toEqual([]);
    expect(conversation.id).toBe(DEMO_CONVERSATION.healthyCaller);
    const customer = conversation.participants.find((p) => p.purpose === 'customer');
    expect(customer?.ani).toBe(`tel:${demoCustomer(DEMO.healthy).phone}`);
  });

  it('TokensApi.getTokensMe → TokenInfo of the client-credentials token', async () => {
    const info = await new platformClient.TokensApi().getTokensMe();
    expect(modelViolations('TokenInfo', info)).toEqual([]);
    expect(info.organization?.id).toBe(orgId);
    expect(info.OAuthClient).toMatchObject({ id: clientId, authorizedGrantType: 'CLIENT-CREDENTIALS' });
  });

  it('a PKCE (agent) token: TokensApi.getTokensMe → TokenInfo with the scopes granted', async () => {
    client.setAccessToken(sim.issueAgentToken());
    const info = await new platformClient.TokensApi().getTokensMe();
    expect(modelViolations('TokenInfo', info)).toEqual([]);
    expect(info.OAuthClient?.id).toBe(sim.panelClientId);
    expect(info.authorizedScope).toContain('conversations:readonly');
  });
});

describe('errors parsed by the SDK as ErrorBody', () => {
  it('404 for an unknown conversation', async () => {
    const err = await rejection(new platformClient.ConversationsApi().getConversation('11111111-2222-4333-8444-555555555555'));
    expect(modelViolations('ErrorBody', err)).toEqual([]);
    expect(err).toMatchObject({ status: 404, code: 'not.found' });
  });

  it('401 for a token Genesys no longer accepts', async () => {
    await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' });
    const err = await rejection(new platformClient.ConversationsApi().postConversationsCalls({ phoneNumber: '+14155550100' }));
    expect(modelViolations('ErrorBody', err)).toEqual([]);
    expect(err).toMatchObject({ status: 401, code: 'authentication.required' });
    expect(sim.placedCalls).toEqual([]);
  });

  it('400 for a call without a phone number', async () => {
    const err = await rejection(new platformClient.ConversationsApi().postConversationsCalls({ callUserId: 'u-1' }));
    expect(modelViolations('ErrorBody', err)).toEqual([]);
    expect(err).toMatchObject({ status: 400, code: 'bad.request' });
  });

  it("429 over the rate limit, with Genesys's retry code", async () => {
    sim.setFaults({ rateLimitPerSecond: 0, only: ['createCall'] });
    const err = await rejection(new platformClient.ConversationsApi().postConversationsCalls({ phoneNumber: '+14155550100' }));
    expect(modelViolations('ErrorBody', err)).toEqual([]);
    expect(err).toMatchObject({ status: 429, code: 'too.many.requests.retry.after' });
  });
});
