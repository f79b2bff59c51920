import { type DynamicModule,Module } from '@nestjs/common';

import { CONNECTORS, CUSTOMER_DIRECTORY, type CustomerConnector } from './connector.js';
import type { ConnectorRegistration } from './connector-registration.js';
import { CONNECTOR_REGISTRY } from './connector-registry.js';

/**
 * Every registered system: CONNECTORS (all connectors, in registration order), the
 * CUSTOMER_DIRECTORY (the one registered as the directory) and whatever each system's module
 * exports (e.g. SAP's BillingWriter). Global, so the aggregation and health see the same registry
 * the composition root chose.
 */
@Module({})
export class ConnectorsModule {
  static forRoot(registry: readonly ConnectorRegistration[] = CONNECTOR_REGISTRY): DynamicModule {
    const directories = registry.filter((r) => r.directory);
    if (directories.length !== 1) throw new Error(`exactly one registered system must be the directory (got ${directories.length})`);
    const modules = registry.map((r) => r.module);
    return {
      module: ConnectorsModule,
      global: true,
      imports: modules,
      providers: [
        {
          provide: CONNECTORS,
          useFactory: (...connectors: CustomerConnector[]) => {
            const misnamed = connectors.find((c, i) => c.source !== registry[i].source);
            if (misnamed) throw new Error(`connector ${misnamed.constructor.name} calls itself "${misnamed.source}", registered as "${registry[connectors.indexOf(misnamed)].source}"`);
            return connectors;
          },
          inject: registry.map((r) => r.connector),
        },
        { provide: CUSTOMER_DIRECTORY, useExisting: directories[0].connector },
      ],
      exports: [CONNECTORS, CUSTOMER_DIRECTORY, ...modules],
    };
  }
}
