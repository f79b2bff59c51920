import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/app.config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { CONNECTORS, CUSTOMER_DIRECTORY, type CustomerConnector, type CustomerDirectory } from '../../src/connectors/connector.js';
import { ConnectorsModule } from '../../src/connectors/connectors.module.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';
import { DEMO, demoCustomer, UNKNOWN_CUSTOMER_ID } from '../sandbox/shared/seed.js';
import { resetSimulators, sandboxEnv, type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';

let sims: Simulators;
let moduleRef: TestingModule;
let connectors: Map<string, CustomerConnector>;
let directory: CustomerDirectory;
const signal = () => AbortSignal.timeout(5000);

beforeAll(async () => {
  sims = await startSimulators();
  const config = loadConfig(sandboxEnv(sims));
  moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), ConnectorsModule.forRoot()] }).compile();
  connectors = new Map(moduleRef.get<CustomerConnector[]>(CONNECTORS).map((c) => [c.source, c]));
  directory = moduleRef.get<CustomerDirectory>(CUSTOMER_DIRECTORY);
});
afterAll(async () => {
  await moduleRef.close();
  await stopSimulators(sims);
});
beforeEach(() => resetSimulators(sims));

describe('connector registry', () => {
  it('registers the three systems in precedence order', () => {
    expect([...connectors.keys()]).toEqual(['salesforce', 'sap', 'servicenow']);
  });
});

describe('each connector against its simulator, in canonical form', () => {
  it('Salesforce: name, tier, last interaction and contact details', async () => {
    const c = demoCustomer(DEMO.apostrophe);
    expect(await connectors.get('salesforce')?.fetch(c.customerId, signal())).toEqual({
      found: true,
      data: { accountName: c.name, loyaltyTier: c.loyaltyTier, lastInteractionDate: c.lastInteractionDate, email: c.email, phone: c.phone },
    });
  });

  it('SAP: exact balance of uncleared items in the currency minor units', async () => {
    const c = demoCustomer(DEMO.decimalTrap);
    expect(await connectors.get('sap')?.fetch(c.customerId, signal())).toEqual({ found: true, data: { accountName: c.name, balances: [{ amount: '0.30', currency: c.currency }] } });
  });

  it('ServiceNow: the active incident count (sent as a string) as a number', async () => {
    expect(await connectors.get('servicenow')?.fetch(DEMO.manyTickets, signal())).toEqual({ found: true, data: { openTickets: 25 } });
  });

  it('each says not found for an unknown customer', async () => {
    for (const c of connectors.values()) expect(await c.fetch(UNKNOWN_CUSTOMER_ID, signal())).toEqual({ found: false });
  });

  it('maps vendor failures to typed errors', async () => {
    sims.servicenow.setFaults({ rateLimitPerSecond: 0 });
    const err = await connectors.get('servicenow')?.fetch(DEMO.healthy, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429 });
    expect((err as UpstreamError).retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('stops its I/O when the signal aborts', async () => {
    sims.sap.setFaults({ latencyMs: 10_000 });
    const controller = new AbortController();
    const pending = connectors.get('sap')?.fetch(DEMO.healthy, controller.signal).catch((e: unknown) => e);
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'timeout' });
  });
});

describe('directory', () => {
  it('finds customer numbers by E.164 phone through SOSL and by e-mail through SOQL', async () => {
    const c = demoCustomer(DEMO.manyTickets);
    expect(await directory.findByPhone(c.phone, signal())).toEqual([c.customerId]);
    expect(await directory.findByEmail(c.email, signal())).toEqual([c.customerId]);
    expect(await directory.findByPhone('+12125550199', signal())).toEqual([]);
  });
});
