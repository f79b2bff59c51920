import { Ajv } from 'ajv';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEMO, demoCustomer, UNKNOWN_CUSTOMER_ID } from '../sandbox/shared/seed.js';
import { resetSimulators } from '../sandbox/simulators.js';
import { startService, type TestService } from '../support/test-app.js';

let s: TestService;
beforeAll(async () => {
  s = await startService({ env: { PUBLIC_BASE_URL: 'https://c360.example.com', GENESYS_API_MAX_RETRIES: '1', GENESYS_RETRY_BASE_MS: '10' } });
});
afterAll(async () => {
  await s.close();
});
beforeEach(() => resetSimulators(s.sims));

const ACTION = '/genesys/v1/customer-lookup';

describe('Genesys custom action', () => {
  it('answers the seed shape for a customer number', async () => {
    const c = demoCustomer(DEMO.healthy);
    const res = await s.post(ACTION, { customerId: c.customerId, actionType: 'customerLookup' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      data: {
        customerView: {
          customerId: c.customerId,
          name: c.name,
          loyaltyTier: c.loyaltyTier,
          balance: expect.stringMatching(/^-?\d+\.\d{2}$/),
          currency: c.currency,
          balanceSummary: expect.stringMatching(new RegExp(`^-?[\\d,]+\\.\\d{2} ${c.currency}$`)),
          balanceCurrencies: 1,
          openTickets: c.tickets.filter((t) => t.active).length,
          lastInteractionDate: c.lastInteractionDate,
          degradedSources: '',
          isDegraded: false,
        },
      },
    });
  });

  it("finds the caller by the phone number Genesys passes (ANI in any notation)", async () => {
    const c = demoCustomer(DEMO.manyTickets);
    const res = await s.post(ACTION, { phone: `${c.phone.slice(0, 3)} ${c.phone.slice(3, 5)} ${c.phone.slice(5)}` });
    expect(res.status).toBe(200);
    expect(res.body.data.customerView.customerId).toBe(c.customerId);
  });

  it('says which sources are degraded while still answering', async () => {
    s.sims.servicenow.setFaults({ forcedStatus: 500 });
    const res = await s.post(ACTION, { customerId: DEMO.apostrophe });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.data.customerView).toMatchObject({ degradedSources: 'servicenow', isDegraded: true, name: "O'Neil & Sons" });
    expect(res.body.data.customerView.openTickets).toBeUndefined();
  });

  it('answers 200 not_found (a flow branch, not a failure) for an unknown customer', async () => {
    const res = await s.post(ACTION, { customerId: UNKNOWN_CUSTOMER_ID });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'not_found', data: { customerView: null } });
  });

  it('rejects bad input with 400 in the action error shape', async () => {
    const none = await s.post(ACTION, { actionType: 'customerLookup' });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ status: 'error', message: 'Invalid request', details: ['give customerId or phone'] });
    const wrongType = await s.post(ACTION, { customerId: DEMO.healthy, actionType: 'dropTables' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.details).toEqual(['actionType must be one of: customerLookup, clickToDial']);
    const extra = await s.post(ACTION, { customerId: DEMO.healthy, orgId: 'x' });
    expect(extra.status).toBe(400);
  });

  it('answers a generic 503 with no internals when no source can answer', async () => {
    for (const sim of [s.sims.salesforce, s.sims.sap, s.sims.servicenow]) sim.setFaults({ resetRate: 1 });
    const res = await s.post(ACTION, { customerId: '0010100040' });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'error', message: 'Service temporarily unavailable', correlationId: expect.any(String) });
  });

  it('reuses the ININ-Correlation-Id Genesys sends', async () => {
    const res = await s.post(ACTION, {}, { 'inin-correlation-id': 'd9b1c3e0-1111-2222-3333-444455556666' });
    expect(res.body.correlationId).toBe('d9b1c3e0-1111-2222-3333-444455556666');
    expect(res.headers.get('x-correlation-id')).toBe('d9b1c3e0-1111-2222-3333-444455556666');
  });

  it('serves an importable data action whose contracts validate a real response', async () => {
    const res = await s.get('/genesys/v1/data-action');
    expect(res.status).toBe(200);
    const def = res.body;
    expect(def.config.request.requestUrlTemplate).toBe('https://c360.example.com/genesys/v1/customer-lookup');
    expect(JSON.stringify(def)).not.toContain('$ref');
    const ajv = new Ajv({ strict: false, validateSchema: false });
    const input = def.contract.input.inputSchema;
    for (const [name, prop] of Object.entries(input.properties as Record<string, { type: string }>)) {
      expect(name).toMatch(/^[A-Za-z]/);
      expect(['orgId', 'integrationId', 'rawRequest']).not.toContain(name);
      expect(['string', 'integer', 'number', 'boolean']).toContain(prop.type);
    }
    expect(ajv.validate(input, { customerId: DEMO.healthy, actionType: 'customerLookup' })).toBe(true);

    // what Genesys does with the response: translation map (JSONPath) → defaults → successTemplate
    const live = await s.post(ACTION, { customerId: DEMO.healthy });
    const { translationMap, translationMapDefaults, successTemplate } = def.config.response as {
      translationMap: Record<string, string>;
      translationMapDefaults: Record<string, string>;
      successTemplate: string;
    };
    const values: Record<string, string> = {};
    for (const [name, path] of Object.entries(translationMap)) {
      const value = path
        .replace(/^\$\./, '')
        .split('.')
        .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], live.body);
      values[name] = value === undefined ? translationMapDefaults[name] : JSON.stringify(value);
    }
    const output = JSON.parse(successTemplate.replace(/\$\{(\w+)\}/g, (_, n: string) => values[n]));
    expect(ajv.validate(def.contract.output.successSchema, output)).toBe(true);
    expect(output).toMatchObject({ status: 'ok', customerId: DEMO.healthy, name: demoCustomer(DEMO.healthy).name });
  });
});

describe('click-to-dial through the Genesys Platform API', () => {
  it('places a call to the customer and returns the conversation id', async () => {
    const c = demoCustomer(DEMO.healthy);
    const res = await s.post(ACTION, { customerId: c.customerId, actionType: 'clickToDial' });
    expect(res.status).toBe(200);
    expect(s.sims.genesys.placedCalls.map((p) => p.phoneNumber)).toEqual([c.phone]);
    // the `id` of Genesys's CreateCallResponse, still called conversationId towards the flow
    expect(res.body).toEqual({ status: 'ok', data: { customerView: null, conversationId: s.sims.genesys.placedCalls[0].conversationId } });
  });

  it('gives the desktop a 503 for its fallback UI when Genesys keeps rejecting the token', async () => {
    s.sims.genesys.setFaults({ forcedStatus: 401, only: ['createCall'] });
    const res = await s.post(ACTION, { phone: '+1 415 555 0100', actionType: 'clickToDial' });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'error', message: 'Service temporarily unavailable' });
    expect(s.sims.genesys.callCount('createCall')).toBe(1 + 1); // the call and one retry (GENESYS_API_MAX_RETRIES=1 here)
  });
});
