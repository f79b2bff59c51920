/**
 * Demo credentials the simulators accept and the sandbox configures the service with.
 * They guard nothing real: the simulators only run on 127.0.0.1.
 */
export const SANDBOX_CREDENTIALS = {
  salesforce: { clientId: 'sandbox-sf-client', clientSecret: 'sandbox-sf-secret' },
  sap: { username: 'SANDBOX_USER', password: 'sandbox-sap-password', sapClient: '100', clientId: 'sb-sandbox-sap-client', clientSecret: 'sandbox-sap-oauth-secret' },
  servicenow: { username: 'sandbox.integration', password: 'sandbox-sn-password', clientId: 'sandbox-sn-client', clientSecret: 'sandbox-sn-secret' },
  genesys: {
    clientId: 'sandbox-genesys-client',
    clientSecret: 'sandbox-genesys-secret',
    orgId: '7a1d1f4c-2c8e-4c55-9d44-2b1a6b9f0c01',
    /** The side panel's public OAuth client (Code Authorization with PKCE: no secret). */
    panelClientId: 'sandbox-genesys-panel-client',
  },
} as const;

/** What callers of the sandbox service present (Genesys data actions, internal consumers, CRM webhooks). */
export const SANDBOX_INBOUND = {
  apiKey: 'sandbox-genesys-api-key-0123456789',
  clientId: 'sandbox-genesys-data-actions',
  clientSecret: 'sandbox-token-client-secret',
  webhookSecret: 'sandbox-webhook-secret-0123456789',
} as const;
