import { describe, expect, it } from 'vitest';

import { DEMO_CONVERSATION } from '../sandbox/genesys/genesys.data.js';
import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import { serviceSuite } from '../support/service-suite.js';

/** GET /v1/conversations/{id}/customer: the side panel's look-up from {{gcConversationId}} alone, against the Genesys simulator. */
const suite = serviceSuite();
const service = (env?: Record<string, string>) => suite.service(env);

const path = (conversationId: string) => `/v1/conversations/${conversationId}/customer`;

describe('GET /v1/conversations/:conversationId/customer', () => {
  it("answers the Customer 360 of the caller (the customer participant's ANI), reading Genesys once per conversation", async () => {
    const s = await service();
    const c = demoCustomer(DEMO.healthy);
    const res = await s.get(path(DEMO_CONVERSATION.healthyCaller));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ customerId: c.customerId, accountName: c.name, phone: c.phone });
    expect((await s.get(path(DEMO_CONVERSATION.healthyCaller))).status).toBe(200);
    expect(suite.sims.genesys.callCount('conversation')).toBe(1);
    expect(suite.sims.genesys.requests('conversation')[0].url).toBe(`/api/v2/conversations/${DEMO_CONVERSATION.healthyCaller}`);
  });

  it('finds a caller added while the call is live', async () => {
    const s = await service();
    const c = demoCustomer(DEMO.apostrophe);
    suite.sims.genesys.addConversation({ conversationId: '9d8c7b6a-5f4e-4d3c-8b2a-190817161514', ani: `tel:${c.phone}`, dnis: 'tel:+18005550199', startTime: new Date().toISOString() });
    const res = await s.get(path('9d8c7b6a-5f4e-4d3c-8b2a-190817161514'));
    expect(res.status).toBe(200);
    expect(res.body.accountName).toBe(c.name);
  });

  it('answers 404 with the reason for an unknown caller, a withheld number and a conversation Genesys does not know', async () => {
    const s = await service();
    const unknownCaller = await s.get(path(DEMO_CONVERSATION.unknownCaller));
    expect(unknownCaller.status).toBe(404);
    expect(unknownCaller.body.message).toBe("No customer matches the caller's number");
    const withheld = await s.get(path(DEMO_CONVERSATION.withheldNumber));
    expect(withheld.status).toBe(404);
    expect(withheld.body.message).toBe("The caller's number is withheld or not a phone number");
    const unknownConversation = await s.get(path('0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d'));
    expect(unknownConversation.status).toBe(404);
    expect(unknownConversation.body.message).toBe('Genesys Cloud does not know this conversation');
  });

  it('refuses what is not a conversation id before calling Genesys', async () => {
    const s = await service();
    const res = await s.get(path('not-a-uuid'));
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual(['conversationId must be a Genesys conversation id (a UUID)']);
    expect(suite.sims.genesys.callCount('conversation')).toBe(0);
  });

  it('gets a new token once when Genesys rejects the cached one', async () => {
    const s = await service();
    expect((await s.get(path(DEMO_CONVERSATION.healthyCaller))).status).toBe(200);
    await fetch(`${suite.sims.genesys.url}/__sim/expire-tokens`, { method: 'POST' });
    expect((await s.get(path(DEMO_CONVERSATION.apostropheCaller))).status).toBe(200);
    expect(suite.sims.genesys.callCount('token')).toBe(2);
  });

  it('answers 503 when Genesys fails, and when no Genesys OAuth client is configured', async () => {
    const s = await service({ GENESYS_RETRY_BASE_MS: '10' });
    suite.sims.genesys.setFaults({ forcedStatus: 503, only: ['conversation'] });
    const res = await s.get(path(DEMO_CONVERSATION.healthyCaller));
    expect(res.status).toBe(503);
    expect(res.text).not.toMatch(/genesys|127\.0\.0\.1/i);
    await s.close();
    const disabled = await service({ GENESYS_CLIENT_ID: '', GENESYS_CLIENT_SECRET: '' });
    expect((await disabled.get(path(DEMO_CONVERSATION.healthyCaller))).status).toBe(503);
  });
});
