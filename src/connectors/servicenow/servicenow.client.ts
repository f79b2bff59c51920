import { Injectable } from '@nestjs/common';

import { Resilient } from '../../resilience/resilient.decorator.js';
import type { VendorClient } from '../../upstream/vendor-client.js';
import { parseJson, statusError } from '../../upstream/vendor-http.js';
import { VendorClients } from '../vendor-clients.js';
import { ServiceNowConfig } from './servicenow.config.js';

const SOURCE = 'servicenow';

/** ServiceNow REST I/O: Basic or OAuth (client credentials, refreshed before expiry; a 401 re-authenticates once). */
@Injectable()
export class ServiceNowClient {
  private readonly vendor: VendorClient;

  constructor(config: ServiceNowConfig, clients: VendorClients) {
    this.vendor = clients.create(SOURCE, {
      enabled: config.enabled,
      auth:
        config.authMode === 'oauth'
          ? { mode: 'client-credentials', tokenUrl: '/oauth_token.do', clientId: config.clientId, clientSecret: config.clientSecret, style: 'form', resilientLogIn: (signal) => this.logIn(signal) }
          : { mode: 'basic', username: config.username, password: config.password },
    });
  }

  /** The OAuth log-in, a call under ServiceNow's policy like any other (VendorClients makes it at start-up). */
  @Resilient(SOURCE, { settings: ServiceNowConfig })
  private async logIn(signal: AbortSignal): Promise<void> {
    await this.vendor.credentials.authorize(signal);
  }

  @Resilient(SOURCE, { settings: ServiceNowConfig })
  async get(url: string, signal: AbortSignal): Promise<unknown> {
    const response = await this.vendor.send({ method: 'GET', url, signal, headers: { accept: 'application/json' } });
    if (response.status === 200) return parseJson(SOURCE, response);
    throw statusError(SOURCE, response);
  }
}
