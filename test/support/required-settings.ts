/** Every setting the service requires when all connectors are enabled (and nothing else), with made-up values. */
export const REQUIRED_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
  SALESFORCE_CLIENT_ID: 'sf-client-id',
  SALESFORCE_CLIENT_SECRET: 'sf-client-secret-value',
  SAP_BASE_URL: 'https://s4.example.com',
  SAP_USERNAME: 'C360_TECH',
  SAP_PASSWORD: 'sap-password-value',
  SERVICENOW_BASE_URL: 'https://acme.service-now.com',
  SERVICENOW_USERNAME: 'c360.integration',
  SERVICENOW_PASSWORD: 'servicenow-password-value',
});
