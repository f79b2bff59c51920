import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Reflector } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allBindings, loadConfig } from '../../src/app.config.js';
import { signatureHeader } from '../../src/auth/signature.js';
import { CONNECTOR_REGISTRY } from '../../src/connectors/connector-registry.js';
import { Metrics } from '../../src/observability/metrics.js';
import { RESILIENT } from '../../src/resilience/resilient.decorator.js';
import { SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO } from '../sandbox/shared/seed.js';
import { sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { syncChart } from '../support/chart-sync.js';
import { configTable } from '../support/config-table.js';
import { startService, type TestService } from '../support/test-app.js';
import { REGISTRY_WITH_A_FOURTH_SYSTEM as REGISTRY } from '../support/test-registry.js';
import { LoyaltyHubClient } from './loyalty-hub.client.js';
import { LoyaltyHubConfig } from './loyalty-hub.config.js';
import { LOYALTY_HUB_USER, LoyaltyHubSimulator } from './loyalty-hub.simulator.js';

/*
 * "A fourth CRM is one folder and one registration line": this folder holds a connector to a
 * made-up Loyalty Hub (config, client, connector, module with its registration) and a tiny
 * simulator of it; test/support/test-registry.ts adds it to the registry in one line. Nothing
 * else names it, and yet the service configures, limits, documents, deploys, merges, health-reports
 * and accepts webhooks for it.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FOLDER = relative(ROOT, fileURLToPath(new URL('./', import.meta.url))).replace(/\/$/, '');
const NAMES_IT = /loyalty[-_ ]?hub/i;

const hubEnv = (url: string, extra: Record<string, string> = {}) => ({ LOYALTYHUB_BASE_URL: url, LOYALTYHUB_USERNAME: LOYALTY_HUB_USER.username, LOYALTYHUB_PASSWORD: LOYALTY_HUB_USER.password, ...extra });

/** Every file of the project a change could touch (sources, tests, chart, docs, build files), outside dist and node_modules. */
function projectFiles(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (['node_modules', 'dist', '.git', 'coverage', 'bench-results', 'test-artifacts'].includes(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? projectFiles(path) : [relative(ROOT, path)];
  });
}

describe('what adding the fourth system touched', () => {
  it('names it nowhere outside its folder but in the registration: one import and one registry line', () => {
    const outside = projectFiles().filter((f) => !f.startsWith(`${FOLDER}/`) && /\.(ts|js|cjs|mjs|json|ya?ml|md|tpl|txt)$|Dockerfile$/.test(f));
    const naming = outside.filter((f) => NAMES_IT.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(naming).toEqual(['test/support/test-registry.ts']);
    const lines = readFileSync(join(ROOT, naming[0]), 'utf8')
      .split('\n')
      .filter((l) => NAMES_IT.test(l));
    expect(lines).toEqual([expect.stringMatching(/^import \{ LOYALTY_HUB \} from /), 'export const REGISTRY_WITH_A_FOURTH_SYSTEM = [...CONNECTOR_REGISTRY, LOYALTY_HUB] as const;']);
  });

  it('gets its settings from its own config class: loaded, validated and in the README table', () => {
    const names = allBindings(REGISTRY)
      .filter((b) => (b.section as string) === 'loyaltyhub')
      .map((b) => b.name);
    expect(names).toEqual(['LOYALTYHUB_ENABLED', 'LOYALTYHUB_BASE_URL', 'LOYALTYHUB_USERNAME', 'LOYALTYHUB_PASSWORD', 'LOYALTYHUB_TIMEOUT_MS', 'LOYALTYHUB_RATE_LIMIT_PER_SEC']);
    expect(allBindings().some((b) => NAMES_IT.test(b.name))).toBe(false);
    const env = sandboxEnv({ salesforce: { url: 'http://127.0.0.1:1' }, sap: { url: 'http://127.0.0.1:1' }, servicenow: { url: 'http://127.0.0.1:1' }, genesys: { url: 'http://127.0.0.1:1' } });
    const config = loadConfig({ ...env, ...hubEnv('http://127.0.0.1:2', { LOYALTYHUB_RATE_LIMIT_PER_SEC: '3' }) }, undefined, REGISTRY) as unknown as Record<string, unknown>;
    expect(config.loyaltyhub).toBeInstanceOf(LoyaltyHubConfig);
    expect((config.loyaltyhub as LoyaltyHubConfig).rateLimit).toEqual({ points: 3, windowSec: 1 });
    expect(() => loadConfig({ ...env, LOYALTYHUB_BASE_URL: 'not a url' }, undefined, REGISTRY)).toThrow(/LOYALTYHUB_BASE_URL/);
    expect(configTable(REGISTRY)).toContain('| `LOYALTYHUB_PASSWORD` | — | yes (`_FILE` ok) | Its password |');
  });

  it('gets its chart values and schema from `npm run chart:sync`, the rest of the chart unchanged', () => {
    const committed = { values: readFileSync(join(ROOT, 'helm/customer360/values.yaml'), 'utf8'), schema: readFileSync(join(ROOT, 'helm/customer360/values.schema.json'), 'utf8') };
    const withHub = syncChart(committed, allBindings(REGISTRY));
    expect(withHub.values).toMatch(/\n {2}# loyaltyhub\n {2}LOYALTYHUB_ENABLED: true\n {2}LOYALTYHUB_BASE_URL: ""\n {2}LOYALTYHUB_USERNAME: ""\n {2}LOYALTYHUB_TIMEOUT_MS: 700\n {2}LOYALTYHUB_RATE_LIMIT_PER_SEC: 10\n/);
    expect(withHub.values).toMatch(/\n {4}LOYALTYHUB_PASSWORD: ""\n/);
    const schema = JSON.parse(withHub.schema) as { properties: { config: { properties: Record<string, unknown> }; secrets: { properties: { files: { properties: Record<string, unknown> } } } } };
    expect(schema.properties.config.properties.LOYALTYHUB_RATE_LIMIT_PER_SEC).toEqual({ $ref: '#/definitions/integerSetting' });
    expect(schema.properties.config.properties.LOYALTYHUB_ENABLED).toEqual({ $ref: '#/definitions/booleanSetting' });
    expect(schema.properties.secrets.properties.files.properties.LOYALTYHUB_PASSWORD).toEqual({ $ref: '#/definitions/secretKey' });
    // taking it out again gives back exactly the committed chart
    expect(syncChart(withHub, allBindings(CONNECTOR_REGISTRY))).toEqual(committed);
  });

  it('marks its calls @Resilient with its own settings, so its rate limit is its own', () => {
    expect(new Reflector().get(RESILIENT, LoyaltyHubClient.prototype.member)).toEqual({ source: 'loyaltyhub', idempotent: true, settings: LoyaltyHubConfig });
  });
});

describe('the service running with the fourth system', () => {
  let sims: Simulators;
  let hub: LoyaltyHubSimulator;
  let s: TestService;

  beforeAll(async () => {
    sims = await startSimulators();
    hub = new LoyaltyHubSimulator({ [DEMO.healthy]: 'Silver', [DEMO.missingFromSalesforce]: 'Platinum' });
    await hub.start();
    s = await startService({ sims, connectors: REGISTRY, env: hubEnv(hub.url, { LOYALTYHUB_RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_MAX_WAIT_MS: '0' }) });
  });
  afterAll(async () => {
    await s?.close();
    await hub?.stop();
    if (sims) await stopSimulators(sims);
  });

  it('merges its part into the view, after the systems registered before it', async () => {
    const res = await s.get(`/v1/customers/${DEMO.missingFromSalesforce}`);
    expect(res.status).toBe(200);
    expect(res.body.sources.loyaltyhub).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(res.body.sourceSystems).toContain('loyaltyhub');
    expect(res.body.loyaltyTier).toBe('Platinum'); // Salesforce does not know this customer
    expect(hub.calls.every((c) => c.authorized)).toBe(true);
  });

  it('reports it in readiness and accepts its signed change webhooks', async () => {
    const ready = await s.get('/health/ready');
    expect(ready.body.details.sources).toMatchObject({ loyaltyhub: 'closed' });
    const body = JSON.stringify({ customerId: DEMO.missingFromSalesforce });
    // two signatures of one body at two timestamps: two deliveries, neither a replay of the other
    const now = Math.floor(Date.now() / 1000);
    const signed = (at: number) => ({ 'x-signature': signatureHeader(SANDBOX_INBOUND.webhookSecret, at, body) });
    expect((await s.post('/v1/webhooks/loyaltyhub', body, signed(now))).status).toBe(202);
    const unknown = await s.post('/v1/webhooks/nosuchsystem', body, signed(now - 1));
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toEqual(['source must be one of: salesforce, sap, servicenow, loyaltyhub']);
  });

  it('holds its calls to LOYALTYHUB_RATE_LIMIT_PER_SEC (1 here): concurrent look-ups beyond it are marked rate_limited', async () => {
    const customers = ['0010100002', '0010100004', '0010100005'];
    const views = await Promise.all(customers.map((id) => s.get(`/v1/customers/${id}`)));
    const statuses = views.map((v) => v.body.sources.loyaltyhub.status as string);
    expect(statuses.filter((st) => st === 'rate_limited').length).toBeGreaterThanOrEqual(1);
    const refusals = (await s.app.get(Metrics).rateLimitRefusals.get()).values.find((v) => v.labels.source === 'loyaltyhub');
    expect(refusals?.value).toBeGreaterThanOrEqual(1);
  });
});
