import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Resilient } from '../../resilience/resilient.decorator.js';
import type { AxiosInstance } from 'axios';
import { basicHeader, CredentialsFactory } from '../../auth/credentials.factory.js';
import type { TokenCache } from '../../auth/token-cache.js';
import { createVendorHttp, destroyVendorHttp, parseJson, send, statusError } from '../vendor-http.js';
import { ServiceNowConfig } from './servicenow.config.js';

const SOURCE = 'servicenow';

/** ServiceNow REST I/O: Basic or OAuth (client credentials, refreshed before expiry; a 401 re-authenticates once). */
@Injectable()
export class ServiceNowClient implements OnApplicationShutdown {
  private readonly http: AxiosInstance;
  private readonly token: TokenCache | undefined;
  private readonly basic: string | undefined;

  constructor(config: ServiceNowConfig, credentials: CredentialsFactory) {
    this.http = createVendorHttp(config.baseUrl, config.timeoutMs);
    if (config.authMode === 'oauth') {
      this.token = credentials.clientCredentials({
        source: SOURCE,
        http: this.http,
        tokenPath: '/oauth_token.do',
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        style: 'form',
      });
    } else {
      this.basic = basicHeader(config.username, config.password);
    }
  }
  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }


  @Resilient('servicenow')
  async get(url: string, signal: AbortSignal): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = this.token ? await this.token.get() : undefined;
      const authorization = token !== undefined ? `Bearer ${token}` : (this.basic as string);
      const response = await send(SOURCE, this.http, { method: 'GET', url, signal, headers: { authorization, accept: 'application/json' } });
      if (response.status === 200) return parseJson(SOURCE, response);
      if (response.status === 401 && token !== undefined && attempt === 0) {
        this.token?.invalidate(token);
        continue;
      }
      throw statusError(SOURCE, response);
    }
  }
}
