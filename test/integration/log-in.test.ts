import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../sandbox/shared/credentials.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { sandboxEnv } from '../sandbox/simulators.js';
import { RedisServer } from '../support/redis-server.js';
import { spawnService } from '../support/service-process.js';
import { serviceSuite } from '../support/service-suite.js';
import { GENEROUS_LIMITS, OPEN_AUTH } from '../support/test-app.js';

const suite = serviceSuite();
const METRICS_TOKEN = 'test-metrics-scrape-token-0123456789';
const SCRAPE = { authorization: `Bearer ${METRICS_TOKEN}` };
const service = (env: Record<string, string> = {}) => suite.service({ METRICS_TOKEN, ...env }, { keepStartUpCalls: true });

/** The CRM calls the service's metrics count for one system (all outcomes). */
async function crmCalls(svc: Awaited<ReturnType<typeof service>>, source: string): Promise<number> {
  const text = (await svc.get('/metrics', SCRAPE)).text;
  const re = new RegExp(`^c360_crm_call_duration_seconds_count\\{[^}]*source="${source}"[^}]*\\} (\\d+)$`, 'gm');
  return [...text.matchAll(re)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const logLines = (svc: Awaited<ReturnType<typeof service>>) => svc.logs.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the log-in at start-up', () => {
  it('Salesforce: the service has its session before the first look-up, taken as a call under Salesforce\'s policy', async () => {
    const svc = await service();
    // before any request: one client-credentials grant, counted as a Salesforce call (rate limit, breaker)
    expect(suite.sims.salesforce.callCount()).toBe(1);
    expect(new URLSearchParams(suite.sims.salesforce.requests('token')[0].body).get('grant_type')).toBe('client_credentials');
    expect(await crmCalls(svc, 'salesforce')).toBe(1);
    expect(logLines(svc)).toContainEqual(expect.objectContaining({ msg: 'logged in at start-up', system: 'salesforce' }));
    // the first screen pop finds the session: its only Salesforce request is the query
    const answer = await svc.get(`/v1/customers/${DEMO.healthy}`);
    expect(answer.body.sources.salesforce.status).toBe('ok');
    expect(suite.sims.salesforce.callCount('token')).toBe(1);
    expect(suite.sims.salesforce.callCount('query')).toBe(1);
    // Basic users (SAP, ServiceNow by default) need no log-in
    expect(suite.sims.sap.callCount('token')).toBe(0);
    expect(suite.sims.servicenow.callCount('token')).toBe(0);
  });

  it('ServiceNow (OAuth) under its policy; SAP\'s XSUAA token outside SAP\'s budget (another system)', async () => {
    const sap = SANDBOX_CREDENTIALS.sap;
    const svc = await service({
      SERVICENOW_AUTH: 'oauth', SERVICENOW_CLIENT_ID: 'sandbox-sn-client', SERVICENOW_CLIENT_SECRET: 'sandbox-sn-secret', SERVICENOW_USERNAME: '', SERVICENOW_PASSWORD: '',
      SAP_AUTH: 'oauth', SAP_TOKEN_URL: `${suite.sims.sap.url}/oauth/token`, SAP_OAUTH_CLIENT_ID: sap.clientId, SAP_OAUTH_CLIENT_SECRET: sap.clientSecret, SAP_USERNAME: '', SAP_PASSWORD: '',
    });
    expect(suite.sims.servicenow.callCount('token')).toBe(1);
    expect(suite.sims.sap.callCount('token')).toBe(1);
    expect(await crmCalls(svc, 'servicenow')).toBe(1);
    expect(await crmCalls(svc, 'sap')).toBe(0);
    const answer = await svc.get(`/v1/customers/${DEMO.manyTickets}`);
    expect(answer.body.sources).toMatchObject({ sap: { status: 'ok' }, servicenow: { status: 'ok' } });
    expect(suite.sims.servicenow.callCount('token')).toBe(1);
    expect(suite.sims.sap.callCount('token')).toBe(1);
  });

  it('refused credentials: the service starts and answers, and its log names the system and the cause, never the secret', async () => {
    const secret = 'a-wrong-secret-0123456789';
    const svc = await service({ SALESFORCE_CLIENT_SECRET: secret });
    expect((await svc.get('/health/ready')).status).toBe(200);
    expect(logLines(svc)).toContainEqual(expect.objectContaining({ msg: 'log-in at start-up failed: the first look-up logs in', system: 'salesforce', reason: 'auth' }));
    const answer = await svc.get(`/v1/customers/${DEMO.healthy}`);
    expect(answer.status).toBe(200);
    expect(answer.body.sources.salesforce.status).not.toBe('ok');
    expect(answer.body.sources.sap.status).toBe('ok');
    expect(svc.logs.join('')).not.toContain(secret);
  });

  it('a system switched off is not called at start-up either', async () => {
    const svc = await service({ SALESFORCE_ENABLED: 'false', SALESFORCE_LOGIN_URL: '', SALESFORCE_CLIENT_ID: '', SALESFORCE_CLIENT_SECRET: '' });
    expect(suite.sims.salesforce.callCount()).toBe(0);
    expect(logLines(svc).filter((l) => String(l.msg).startsWith('log-in at start-up'))).toEqual([]);
    expect((await svc.get(`/v1/customers/${DEMO.healthy}`)).body.sources.salesforce).toEqual({ status: 'disabled' });
  });

  it('Salesforce down at start-up: the service starts, and the first look-up after it recovers logs in', async () => {
    suite.sims.salesforce.setFaults({ forcedStatus: 503 });
    const svc = await service({ RETRY_MAX_ATTEMPTS: '1' });
    expect(logLines(svc)).toContainEqual(expect.objectContaining({ msg: 'log-in at start-up failed: the first look-up logs in', system: 'salesforce', reason: 'unavailable' }));
    suite.sims.salesforce.resetFaults();
    const answer = await svc.get(`/v1/customers/${DEMO.healthy}`);
    expect(answer.body.sources.salesforce.status).toBe('ok');
    expect(suite.sims.salesforce.callCount('token')).toBe(2);
  });

  describe('with Redis', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await RedisServer.start();
    });
    afterAll(async () => {
      await redis.stop();
    });

    it('is charged to the limit the replicas share: start-up waits for the first connection, so it never falls back to the process\'s share', async () => {
      await redis.flush();
      // a process of its own, as deployed: in-process, Redis connects before start-up needs it anyway
      const svc = await spawnService(sandboxEnv(suite.sims, { REDIS_URL: redis.url, ...GENEROUS_LIMITS, ...OPEN_AUTH }));
      try {
        await svc.whenOutput('logged in at start-up');
        expect(suite.sims.salesforce.callCount('token')).toBe(1);
        const client = createClient({ url: redis.url });
        await client.connect();
        try {
          expect(await client.keys('c360:rl:*{salesforce}*')).not.toEqual([]);
        } finally {
          await client.close();
        }
        expect(svc.output()).not.toContain('shared rate limit unavailable');
      } finally {
        await svc.stop();
      }
    });
  });
});
