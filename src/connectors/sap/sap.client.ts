import { Injectable } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { basicHeader } from '../../auth/credentials.factory.js';
import { createVendorHttp, parseJson, send, statusError } from '../vendor-http.js';
import { SapConfig } from './sap.config.js';

const SOURCE = 'sap';

/** SAP OData V2 I/O with Basic authentication; OData error envelopes mapped to typed errors. */
@Injectable()
export class SapClient {
  private readonly http: AxiosInstance;
  private readonly authorization: string;

  constructor(config: SapConfig) {
    this.http = createVendorHttp(config.baseUrl, config.timeoutMs);
    this.authorization = basicHeader(config.username, config.password);
  }

  /** GETs a URL (path + query, already encoded) and returns the parsed body; 404 resolves to undefined. */
  async get(url: string, signal: AbortSignal): Promise<unknown> {
    const response = await send(SOURCE, this.http, { method: 'GET', url, signal, headers: { authorization: this.authorization, accept: 'application/json' } });
    if (response.status === 200) return parseJson(SOURCE, response);
    if (response.status === 404) return undefined;
    throw statusError(SOURCE, response);
  }
}
