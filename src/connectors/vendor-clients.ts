import { Injectable, type OnApplicationShutdown,Optional } from '@nestjs/common';
import type { AxiosResponse } from 'axios';

import { Metrics } from '../observability/metrics.js';
import { clientCredentialsCache } from '../upstream/client-credentials.js';
import { basicCredentials, bearerCredentials } from '../upstream/credentials.js';
import type { UpstreamError } from '../upstream/upstream-error.js';
import { VendorClient } from '../upstream/vendor-client.js';
import { createVendorHttp } from '../upstream/vendor-http.js';

/** How a system authenticates: a technical user (Basic), or OAuth2 client credentials (Bearer). */
export type VendorAuth =
  | { mode: 'basic'; username: string; password: string }
  | {
      mode: 'client-credentials';
      /** Relative to the base URL, or absolute. */
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /** Client credentials in the form body, or in a Basic header (SAP XSUAA). */
      style: 'form' | 'basic';
      /** The vendor's reading of a refused token request (e.g. a rate limit said its own way). */
      classifyError?: (response: AxiosResponse<string>) => UpstreamError;
    };

export interface VendorClientOptions {
  baseUrl: string;
  timeoutMs: number;
  auth: VendorAuth;
}

/**
 * Makes each connector's HTTP edge the same way: one keep-alive instance per system, Basic or a
 * client-credentials token cache (refreshed before expiry, counted in c360_token_refreshes_total),
 * "authorize, send, re-authenticate once on 401" (VendorClient.send), and every instance closed
 * on shutdown.
 */
@Injectable()
export class VendorClients implements OnApplicationShutdown {
  private readonly made: VendorClient[] = [];

  constructor(@Optional() private readonly metrics?: Metrics) {}

  create(source: string, options: VendorClientOptions): VendorClient {
    const http = createVendorHttp(options.baseUrl, options.timeoutMs);
    const auth = options.auth;
    const credentials =
      auth.mode === 'basic'
        ? basicCredentials(auth.username, auth.password)
        : bearerCredentials(
            clientCredentialsCache(
              { source, http, tokenPath: auth.tokenUrl, clientId: auth.clientId, clientSecret: auth.clientSecret, style: auth.style, classifyError: auth.classifyError },
              { onFetched: (outcome) => this.metrics?.tokenRefreshes.inc({ system: source, outcome }) },
            ),
          );
    const client = new VendorClient(source, http, credentials);
    this.made.push(client);
    return client;
  }

  onApplicationShutdown(): void {
    for (const client of this.made.splice(0)) client.close();
  }
}
