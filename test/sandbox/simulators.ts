import { GenesysSimulator } from './genesys/genesys.simulator.js';
import { SalesforceSimulator } from './salesforce/salesforce.simulator.js';
import { SapSimulator } from './sap/sap.simulator.js';
import { ServiceNowSimulator } from './servicenow/servicenow.simulator.js';
import { SANDBOX_CREDENTIALS, SANDBOX_INBOUND } from './shared/credentials.js';
import type { DemoCustomer } from './shared/seed.js';

/** The four simulated systems, running. */
export interface Simulators {
  salesforce: SalesforceSimulator;
  sap: SapSimulator;
  servicenow: ServiceNowSimulator;
  genesys: GenesysSimulator;
}

/** Fixed ports of the sandbox (documented in the README); tests pass 0 for free ports. */
export const SANDBOX_PORTS = { service: 3000, salesforce: 4101, sap: 4102, servicenow: 4103, genesys: 4104 } as const;

export interface SimulatorsOptions {
  /** The customers the three CRMs hold (default: the 60 demo customers; see `seededCustomers`). */
  customers?: readonly DemoCustomer[];
  /** Lifetime of the Genesys simulator's Platform API tokens (default 86399 s). */
  genesysTokenLifetimeSeconds?: number;
}

export async function startSimulators(ports: Partial<Record<keyof Simulators, number>> = {}, options: SimulatorsOptions = {}): Promise<Simulators> {
  const { customers } = options;
  const sims: Simulators = {
    salesforce: new SalesforceSimulator({ port: ports.salesforce ?? 0, customers }),
    sap: new SapSimulator({ port: ports.sap ?? 0, customers }),
    servicenow: new ServiceNowSimulator({ port: ports.servicenow ?? 0, customers }),
    genesys: new GenesysSimulator({ port: ports.genesys ?? 0, tokenLifetimeSeconds: options.genesysTokenLifetimeSeconds }),
  };
  await Promise.all(Object.values(sims).map((s) => s.start()));
  return sims;
}

export async function stopSimulators(sims: Simulators): Promise<void> {
  await Promise.all(Object.values(sims).map((s) => s.stop()));
}

export function resetSimulators(sims: Simulators, options: { keepTokens?: boolean } = {}): void {
  for (const sim of Object.values(sims)) sim.reset(options);
}

/** The service's environment for talking to these simulators (running here or in another process) with the demo credentials. */
export function sandboxEnv(sims: { readonly [K in keyof Simulators]: { readonly url: string } }, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const c = SANDBOX_CREDENTIALS;
  return {
    NODE_ENV: 'sandbox',
    LOG_LEVEL: 'warn',
    SALESFORCE_LOGIN_URL: sims.salesforce.url,
    SALESFORCE_CLIENT_ID: c.salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: c.salesforce.clientSecret,
    SAP_BASE_URL: sims.sap.url,
    SAP_CLIENT: c.sap.sapClient,
    SAP_USERNAME: c.sap.username,
    SAP_PASSWORD: c.sap.password,
    SERVICENOW_BASE_URL: sims.servicenow.url,
    SERVICENOW_USERNAME: c.servicenow.username,
    SERVICENOW_PASSWORD: c.servicenow.password,
    GENESYS_LOGIN_URL: sims.genesys.url,
    GENESYS_API_URL: sims.genesys.url,
    GENESYS_CLIENT_ID: c.genesys.clientId,
    GENESYS_CLIENT_SECRET: c.genesys.clientSecret,
    GENESYS_ORG_ID: c.genesys.orgId,
    // inbound: Genesys may use the token endpoint (User Defined OAuth) or the API key
    GENESYS_API_KEY: SANDBOX_INBOUND.apiKey,
    TOKEN_CLIENT_ID: SANDBOX_INBOUND.clientId,
    TOKEN_CLIENT_SECRET: SANDBOX_INBOUND.clientSecret,
    TOKEN_CLIENT_SCOPES: 'genesys:action,customer:read,customer:write',
    WEBHOOK_HMAC_SECRET: SANDBOX_INBOUND.webhookSecret,
    ...extra,
  };
}
