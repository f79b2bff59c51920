import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';

import { CONNECTORS, CUSTOMER_DIRECTORY, type CustomerConnector, type FetchResult } from './connector.js';
import { type ConnectorRegistration, registration } from './connector-registration.js';
import { CONNECTOR_REGISTRY } from './connector-registry.js';
import { ConnectorsModule } from './connectors.module.js';

class FakeConfig {
  enabled = true;
  rateLimit = { points: 1, windowSec: 1 };
}

/** A registration whose connector calls itself `calls` (its registered name is `source`). */
function fake(source: string, calls = source, directory = false): ConnectorRegistration {
  @Injectable()
  class FakeConnector implements CustomerConnector {
    readonly source = calls;
    readonly enabled = true;
    fetch(): Promise<FetchResult> {
      return Promise.resolve({ found: false });
    }
    findByPhone(): Promise<string[]> {
      return Promise.resolve([]);
    }
  }
  @Module({ providers: [FakeConnector], exports: [FakeConnector] })
  class FakeModule {}
  return registration({ source, config: FakeConfig, module: FakeModule, connector: FakeConnector, directory });
}

const build = (registry: readonly ConnectorRegistration[]) => Test.createTestingModule({ imports: [ConnectorsModule.forRoot(registry)] }).compile();

describe('ConnectorsModule.forRoot: the registry', () => {
  it('registers Salesforce, SAP and ServiceNow, in that (precedence) order, Salesforce as the directory', () => {
    expect(CONNECTOR_REGISTRY.map((r) => r.source)).toEqual(['salesforce', 'sap', 'servicenow']);
    expect(CONNECTOR_REGISTRY.filter((r) => r.directory).map((r) => r.source)).toEqual(['salesforce']);
  });

  it('provides every registered connector in order, and the directory', async () => {
    const registry = [fake('a', 'a', true), fake('b')];
    const moduleRef = await build(registry);
    expect(moduleRef.get<CustomerConnector[]>(CONNECTORS).map((c) => c.source)).toEqual(['a', 'b']);
    expect(moduleRef.get<CustomerConnector>(CUSTOMER_DIRECTORY).source).toBe('a');
    await moduleRef.close();
  });

  it('needs exactly one directory', () => {
    expect(() => ConnectorsModule.forRoot([fake('a'), fake('b')])).toThrow('exactly one registered system must be the directory (got 0)');
    expect(() => ConnectorsModule.forRoot([fake('a', 'a', true), fake('b', 'b', true)])).toThrow('(got 2)');
  });

  it('refuses a connector whose name is not the one it is registered under (its settings and limits would not be its own)', async () => {
    await expect(build([fake('a', 'a', true), fake('b', 'c')])).rejects.toThrow('calls itself "c", registered as "b"');
  });
});
