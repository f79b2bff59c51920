import { HttpModule, HttpService } from '@nestjs/axios';
import { type DynamicModule, Injectable, type OnApplicationShutdown, Optional, type Type } from '@nestjs/common';
import type { AxiosResponse } from 'axios';

import { Metrics } from '../observability/metrics.js';
import { clientCredentialsCache } from '../upstream/client-credentials.js';
import { basicCredentials, bearerCredentials } from '../upstream/credentials.js';
import type { UpstreamError } from '../upstream/upstream-error.js';
import { VendorClient } from '../upstream/vendor-client.js';
import { vendorHttpConfig } from '../upstream/vendor-http.js';

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
  auth: VendorAuth;
}

/** Where a system is and how long one call to it may take, from its settings. */
export interface VendorTarget {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * The HTTP client of one system's module (import it there, beside VendorClients in its providers):
 * @nestjs/axios's HttpModule over one keep-alive axios instance made from the system's settings
 * (vendorHttpConfig). The calls go through the instance itself (`HttpService.axiosRef`): every call
 * here is an awaited promise cancelled by an AbortSignal, so HttpService's Observables would only add
 * a layer.
 */
export function vendorHttpModule<C>(settings: Type<C>, target: (config: C) => VendorTarget): DynamicModule {
  return HttpModule.registerAsync({
    useFactory: (config: C) => {
      const { baseUrl, timeoutMs } = target(config);
      return vendorHttpConfig(baseUrl, timeoutMs);
    },
    inject: [settings],
  });
}

/**
 * Makes each connector's HTTP edge the same way: its module's keep-alive instance (vendorHttpModule), Basic or a
 * client-credentials token cache (refreshed before expiry, counted in c360_token_refreshes_total),
 * "authorize, send, re-authenticate once on 401" (VendorClient.send), and every instance closed
 * on shutdown.
 */
@Injectable()
export class VendorClients implements OnApplicationShutdown {
  private readonly made: VendorClient[] = [];

  constructor(
    private readonly httpService: HttpService,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  create(source: string, options: VendorClientOptions): VendorClient {
    const http = this.httpService.axiosRef;
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
