import { Module, type Type } from '@nestjs/common';
import { CONNECTORS, CUSTOMER_DIRECTORY, type CustomerConnector } from './connector.js';
import { SalesforceConnector } from './salesforce/salesforce.connector.js';
import { SalesforceModule } from './salesforce/salesforce.module.js';
import { SapConnector } from './sap/sap.connector.js';
import { SapModule } from './sap/sap.module.js';
import { ServiceNowConnector } from './servicenow/servicenow.connector.js';
import { ServiceNowModule } from './servicenow/servicenow.module.js';

/**
 * The registry. A new system is one folder (config, client, mapper, query, connector, module)
 * and one line here.
 */
const REGISTERED: ReadonlyArray<{ module: Type; connector: Type<CustomerConnector> }> = [
  { module: SalesforceModule, connector: SalesforceConnector },
  { module: SapModule, connector: SapConnector },
  { module: ServiceNowModule, connector: ServiceNowConnector },
];

@Module({
  imports: REGISTERED.map((r) => r.module),
  providers: [
    {
      provide: CONNECTORS,
      useFactory: (...connectors: CustomerConnector[]) => connectors,
      inject: REGISTERED.map((r) => r.connector),
    },
    { provide: CUSTOMER_DIRECTORY, useExisting: SalesforceConnector },
  ],
  exports: [CONNECTORS, CUSTOMER_DIRECTORY, SapModule],
})
export class ConnectorsModule {}
